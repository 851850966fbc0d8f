// Reading what Prosody's internal storage keeps for MUC rooms, laid out as livechat's Prosody writes it:
//   <data>/<host>/config/<room>.dat      room: {_jid, _data = {config, subject…}, _affiliation_data, [jid] = affiliation}
//   <data>/<host>/muc_log/<room>.list    mod_muc_mam archive: item({key, when, with, name, attr, children…}) per stanza
//   <data>/<host>/persistent.dat         {[roomJid] = true}
// Path segments are Prosody-encoded: every byte other than [A-Za-z0-9] becomes %xx.
import { createReadStream } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { createInterface } from 'node:readline';
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
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
      return [];
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
export async function readRooms(
  prosodyDataDir: string,
  host: string,
  onError: (msg: string) => void,
): Promise<ProsodyRoom[]> {
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
    if (!(t instanceof LuaTable)) {
      onError(`${host}/config/${f}: not a room`);
      continue;
    }
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

function archiveItem(v: LuaValue): ProsodyArchiveItem | undefined {
  if (!(v instanceof LuaTable)) return undefined;
  const stanza = toXmlNode(v);
  const key = str(v.get('key'));
  const when = v.get('when');
  if (!stanza || !key || typeof when !== 'number' || !Number.isFinite(when)) return undefined;
  return { key, when, with: str(v.get('with')) ?? '', stanza };
}

/**
 * A room's mod_muc_mam archive in file order (which is time order), read as a stream: Prosody's serializer escapes
 * newlines inside strings, so every line starting with `item(` starts an entry, and entries are parsed one by one
 * (an archive of any size never sits in memory whole). Nothing when the room has no archive; an entry that does not
 * parse is reported through `onError` with its line number and skipped.
 */
export async function* readArchive(
  prosodyDataDir: string,
  roomJid: string,
  onError: (msg: string) => void,
): AsyncGenerator<ProsodyArchiveItem> {
  const at = roomJid.indexOf('@');
  const file = join(
    prosodyDataDir,
    encodeProsodyName(roomJid.slice(at + 1)),
    'muc_log',
    `${encodeProsodyName(roomJid.slice(0, at))}.list`,
  );
  const stream = createReadStream(file, { encoding: 'utf8' });
  const opened = await new Promise<boolean>((resolve, reject) => {
    stream.once('ready', () => resolve(true));
    stream.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? resolve(false) : reject(err)));
  });
  if (!opened) return;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let chunk: string[] = [];
  let chunkLine = 0;
  let lineNo = 0;
  const flush = function* () {
    if (!chunk.length) return;
    let values: LuaValue[] = [];
    try {
      values = parseLuaItems(chunk.join('\n'));
    } catch (err) {
      onError(`${file} line ${chunkLine}: ${(err as Error).message}`);
    }
    for (const v of values) {
      const item = archiveItem(v);
      if (item) yield item;
    }
    chunk = [];
  };
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.startsWith('item(')) {
        yield* flush();
        chunkLine = lineNo;
      }
      chunk.push(line);
    }
    yield* flush();
  } finally {
    lines.close();
    stream.destroy();
  }
}
