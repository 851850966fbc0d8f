// Reading what Prosody's internal storage keeps for MUC rooms, laid out as livechat's Prosody writes it:
//   <data>/<host>/config/<room>.dat      room: {_jid, _data = {config, subject…}, _affiliation_data, [jid] = affiliation}
//   <data>/<host>/muc_log/<room>.list    mod_muc_mam archive: item({key, when, with, name, attr, children…}) per stanza
//   <data>/<host>/persistent.dat         {[roomJid] = true}
// Path segments are Prosody-encoded: every byte other than [A-Za-z0-9] becomes %xx.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LuaTable, parseLuaItems, parseLuaReturn, type LuaValue } from './lua-data.js';

export function decodeProsodyName(name: string): string {
  return decodeURIComponent(name);
}

export function encodeProsodyName(name: string): string {
  let out = '';
  for (const b of Buffer.from(name, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9]/.test(c) ? c : '%' + b.toString(16).padStart(2, '0');
  }
  return out;
}

/** An XML element as Prosody serialises stanzas: name, attr, then children (tables) and text (strings). */
export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: Array<XmlNode | string>;
}

export interface ProsodyRoom {
  /** Room bare JID (`_jid`). */
  jid: string;
  /** `_data`: the room's configuration and subject, Prosody's keys. */
  data: Map<string, LuaValue>;
  /** Bare JID → affiliation. */
  affiliations: Map<string, string>;
  /** Bare JID → reserved nickname (`_affiliation_data[jid].reserved_nickname`). */
  reservedNicks: Map<string, string>;
}

export interface ProsodyArchiveItem {
  /** Prosody's archive id (the stanza-id it handed out). */
  key: string;
  /** Seconds since the epoch (Prosody 0.12 keeps whole seconds). */
  when: number;
  /** `message<groupchat`, `presence<unavailable`, … */
  with: string;
  stanza: XmlNode;
}

const str = (v: LuaValue): string | undefined => (typeof v === 'string' ? v : undefined);

/** Rebuilds an element from Prosody's table form; `undefined` when it is not one. */
export function toXmlNode(t: LuaValue, depth = 0): XmlNode | undefined {
  if (!(t instanceof LuaTable) || depth > 100) return undefined;
  const name = str(t.get('name'));
  if (!name) return undefined;
  const attrs: Record<string, string> = {};
  const a = t.get('attr');
  if (a instanceof LuaTable) for (const [k, v] of a.entries()) if (typeof v === 'string') attrs[k] = v;
  const children: Array<XmlNode | string> = [];
  for (const c of t.list()) {
    if (typeof c === 'string') children.push(c);
    else {
      const n = toXmlNode(c, depth + 1);
      if (n) children.push(n);
    }
  }
  return { name, attrs, children };
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}

/** Hosts of a Prosody data folder that hold MUC rooms (a `config` store of room files). */
export async function findMucHosts(prosodyDataDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await listDir(prosodyDataDir)) {
    const files = await listDir(join(prosodyDataDir, name, 'config'));
    if (files.some((f) => f.endsWith('.dat'))) out.push(decodeProsodyName(name));
  }
  return out;
}

/** Every room of a MUC host; files that do not parse are reported through `onError` and skipped. */
export async function readRooms(prosodyDataDir: string, host: string, onError: (msg: string) => void): Promise<ProsodyRoom[]> {
  const dir = join(prosodyDataDir, encodeProsodyName(host), 'config');
  const rooms: ProsodyRoom[] = [];
  for (const f of await listDir(dir)) {
    if (!f.endsWith('.dat')) continue;
    let t: LuaValue;
    try {
      t = parseLuaReturn(await readFile(join(dir, f), 'utf8'));
    } catch (err) {
      onError(`${host}/config/${f}: ${(err as Error).message}`);
      continue;
    }
    if (!(t instanceof LuaTable)) { onError(`${host}/config/${f}: not a room`); continue; }
    const node = decodeProsodyName(f.slice(0, -4));
    const jid = str(t.get('_jid')) ?? `${node}@${host}`;
    const data = t.get('_data');
    const room: ProsodyRoom = {
      jid,
      data: data instanceof LuaTable ? new Map(data.entries()) : new Map(),
      affiliations: new Map(),
      reservedNicks: new Map(),
    };
    for (const [k, v] of t.entries()) {
      if (!k.startsWith('_') && typeof v === 'string') room.affiliations.set(k, v);
    }
    const affData = t.get('_affiliation_data');
    if (affData instanceof LuaTable) {
      for (const [k, v] of affData.entries()) {
        const nick = v instanceof LuaTable ? str(v.get('reserved_nickname')) : undefined;
        if (nick) room.reservedNicks.set(k, nick);
      }
    }
    rooms.push(room);
  }
  return rooms;
}

/** A room's mod_muc_mam archive in file order (which is time order); `[]` when it has none. */
export async function readArchive(prosodyDataDir: string, roomJid: string): Promise<ProsodyArchiveItem[]> {
  const at = roomJid.indexOf('@');
  const node = roomJid.slice(0, at);
  const host = roomJid.slice(at + 1);
  let text: string;
  try {
    text = await readFile(join(prosodyDataDir, encodeProsodyName(host), 'muc_log', `${encodeProsodyName(node)}.list`), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: ProsodyArchiveItem[] = [];
  for (const v of parseLuaItems(text)) {
    if (!(v instanceof LuaTable)) continue;
    const stanza = toXmlNode(v);
    const key = str(v.get('key'));
    const when = v.get('when');
    if (!stanza || !key || typeof when !== 'number' || !Number.isFinite(when)) continue;
    out.push({ key, when, with: str(v.get('with')) ?? '', stanza });
  }
  return out;
}
