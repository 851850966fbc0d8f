// Imports the chat rooms of a peertube-plugin-livechat Prosody (internal storage) into this server's data folder:
// each room's configuration, subject, affiliations and reserved nicknames (<data>/muc/<room>.json) and its
// mod_muc_mam archive (<data>/archive/<room JID>/) with the original times, order, message ids, archive ids
// (stanza-ids) and occupant ids.
// Rooms that already exist here are left alone, so the import can run again (e.g. on every plugin start); a room
// is complete once its file exists, which is written after its archive.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readJson, writeJson } from '../../storage/json-document.js';
import { FileArchive } from '../../storage/archive.js';
import type { ArchiveConfig } from '../../storage/config.js';
import { RoomStore, roomFileName, type StoredRoom } from '../../muc/persistence.js';
import { PROSODY_SALT_PREFIX } from '../../muc/prosody-occupant-id.js';
import { DEFAULT_ROOM_CONFIG } from '../../muc/config.js';
import { retractedByModerator } from '../../muc/features/retraction.js';
import {
  AFFILIATIONS,
  MUC_NS,
  type Affiliation,
  type AffiliationEntry,
  type Role,
  type RoomConfig,
} from '../../muc/types.js';
import { el, type Element } from '../../xmpp/xml.js';
import { isArchivable, prepareForArchive } from '../../mam/archivable.js';
import { silentLogger } from '../../log.js';
import { LuaTable, type LuaValue } from './lua-data.js';
import { findMucHosts, readArchive, readRooms, type ProsodyRoom, type XmlNode } from './prosody-data.js';

export interface LivechatImportOptions {
  /** Prosody's data folder (livechat: `<plugin data>/prosody/data`). */
  prosodyDataDir: string;
  /** This server's data folder. */
  dataDir: string;
  /** This server's MUC domain (room.<domain>); rooms of any Prosody MUC host land there. */
  mucHost: string;
  /** Only these Prosody MUC hosts (default: every host with rooms). */
  fromHosts?: string[];
  /** Archive settings of this server (expiry, segment size…). */
  archive?: Partial<ArchiveConfig>;
  /** Whether rooms that never set archiving keep their messages (livechat's `prosody-muc-log-by-default`, default on). */
  logByDefault?: boolean;
  /** The MUC service's largest history length (`muc.maxHistoryLength`, default 100): room values are capped to it. */
  maxHistoryLength?: number;
  /** Progress and skipped files. */
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface ImportedRoom {
  /** Room JID here. */
  jid: string;
  /** Room JID in Prosody. */
  from: string;
  affiliations: number;
  messages: number;
  /** Why nothing was written, when nothing was. */
  skipped?: string;
}

export interface LivechatImportReport {
  rooms: ImportedRoom[];
  errors: string[];
}

/** Prosody's defaults for keys a room never changed, as livechat configures its MUC. */
const LIVECHAT_PROSODY_DEFAULTS = {
  public: false,
  membersOnly: false,
  moderated: false,
  whois: 'moderators' as const,
  changeSubject: false,
  historyLength: 20,
  lang: 'en',
  allowInvites: false,
};

/** `_data` keys mapped onto the standard room configuration; unknown ones are kept as is under `livechatProsody`. */
const MAPPED = new Set([
  'name',
  'description',
  'language',
  'persistent',
  'hidden',
  'moderated',
  'members_only',
  'password',
  'whois',
  'changesubject',
  'history_length',
  'allow_member_invites',
  'presence_broadcast',
  'archiving',
  'subject',
  'subject_from',
  'subject_time',
  'occupant_id_salt',
]);

/** livechat's room options (`_data` keys of its Prosody modules) → this server's room config keys. */
const LIVECHAT_OPTIONS: Record<string, [string, 'number' | 'boolean']> = {
  slow_mode_duration: ['slowModeDuration', 'number'],
  moderation_delay: ['moderationDelay', 'number'],
  anonymize_moderation_actions: ['anonymizeModerationActions', 'boolean'],
  mute_anonymous: ['muteAnonymous', 'boolean'],
  livechat_emoji_only: ['emojiOnly', 'boolean'],
};

function luaToJson(v: LuaValue): unknown {
  if (!(v instanceof LuaTable)) return typeof v === 'number' && !Number.isFinite(v) ? null : v;
  const list = v.list();
  const named = v.entries();
  if (named.length === 0 && v.fields.size === list.length - v.array.length) return list.map(luaToJson);
  const o: Record<string, unknown> = {};
  list.forEach((x, i) => {
    o[String(i + 1)] = luaToJson(x);
  });
  for (const [k, x] of v.fields)
    if (!(typeof k === 'number' && Number.isInteger(k) && k >= 1 && k <= list.length)) o[String(k)] = luaToJson(x);
  return o;
}

function resourceOf(jid: string): string {
  const slash = jid.indexOf('/');
  return slash < 0 ? '' : jid.slice(slash + 1);
}

/** The room configuration from Prosody's `_data`. */
export function roomConfigFromProsody(
  data: Map<string, LuaValue>,
  logByDefault: boolean,
  maxHistoryLength = 100,
): RoomConfig {
  const s = (k: string) => (typeof data.get(k) === 'string' ? (data.get(k) as string) : undefined);
  const b = (k: string) => (typeof data.get(k) === 'boolean' ? (data.get(k) as boolean) : undefined);
  const n = (k: string) =>
    typeof data.get(k) === 'number' && Number.isFinite(data.get(k)) ? (data.get(k) as number) : undefined;
  const d = LIVECHAT_PROSODY_DEFAULTS;
  const hidden = b('hidden');
  const whois = s('whois');
  let presenceBroadcast: Role[] = [...DEFAULT_ROOM_CONFIG.presenceBroadcast];
  const pb = data.get('presence_broadcast');
  if (pb instanceof LuaTable) {
    presenceBroadcast = (['moderator', 'participant', 'visitor', 'none'] as Role[]).filter((r) => pb.get(r) === true);
  }
  const config: RoomConfig = {
    ...DEFAULT_ROOM_CONFIG,
    name: s('name') ?? '',
    description: s('description') ?? '',
    lang: s('language') ?? d.lang,
    persistent: true,
    public: hidden === undefined ? d.public : !hidden,
    moderated: b('moderated') ?? d.moderated,
    membersOnly: b('members_only') ?? d.membersOnly,
    password: s('password') ?? '',
    whois: whois === 'anyone' || whois === 'moderators' ? whois : d.whois,
    changeSubject: b('changesubject') ?? d.changeSubject,
    presenceBroadcast,
    historyLength: Math.max(0, Math.min(Math.trunc(n('history_length') ?? d.historyLength), maxHistoryLength)),
    enableArchiving: b('archiving') ?? logByDefault,
    allowInvites: b('allow_member_invites') ?? d.allowInvites,
  };
  // livechat's own room options (its Prosody modules) onto this server's room features (src/muc/features/).
  for (const [prosodyKey, [key, kind]] of Object.entries(LIVECHAT_OPTIONS)) {
    const v = data.get(prosodyKey);
    if (kind === 'number' && typeof v === 'number' && Number.isFinite(v) && v >= 0) config[key] = v;
    if (kind === 'boolean' && typeof v === 'boolean') config[key] = v;
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of data) if (!MAPPED.has(k) && !(k in LIVECHAT_OPTIONS)) extra[k] = luaToJson(v);
  if (Object.keys(extra).length) config.livechatProsody = extra;
  return config;
}

/** Affiliations (with reserved nicknames) from Prosody's room file; unknown affiliation names are dropped. */
export function affiliationsFromProsody(room: ProsodyRoom): Record<string, AffiliationEntry> {
  const out: Record<string, AffiliationEntry> = {};
  for (const [jid, aff] of room.affiliations) {
    if (!AFFILIATIONS.includes(aff as Affiliation) || aff === 'none') continue;
    const entry: AffiliationEntry = { affiliation: aff as Exclude<Affiliation, 'none'> };
    const nick = room.reservedNicks.get(jid);
    if (nick) entry.nick = nick;
    out[jid.toLowerCase()] = entry;
  }
  return out;
}

function toElement(n: XmlNode): Element {
  return el(n.name, { ...n.attrs }, ...n.children.map((c) => (typeof c === 'string' ? c : toElement(c))));
}

/**
 * A message moderated on livechat's Prosody: mod_muc_moderation replaced it in the archive by a tombstone
 * `<moderated xmlns=message-moderate:0 by><retracted xmlns=message-retract:0 stamp/>[<reason/>]</moderated>`.
 */
function isProsodyTombstone(msg: Element): Element | undefined {
  const m = msg.getChild('moderated', MUC_NS.MODERATE_0);
  return m && m.getChild('retracted', MUC_NS.RETRACT_0) ? m : undefined;
}

/** Adds the current form (XEP-0424 v1 `<retracted>` with `<moderated>`), as this server's own tombstones carry both. */
function addCurrentRetraction(msg: Element, moderated: Element): void {
  if (msg.getChild('retracted', MUC_NS.RETRACT_1)) return;
  const stamp = moderated.getChild('retracted', MUC_NS.RETRACT_0)?.attrs.stamp as string | undefined;
  const reason = moderated.getChildText('reason') ?? undefined;
  const by = moderated.attrs.by as string | undefined;
  const actor = moderated.getChild('occupant-id', MUC_NS.OCCUPANT_ID)?.attrs.id as string | undefined;
  msg.append(retractedByModerator(stamp, by, actor, reason));
}

/** An archived Prosody message in this server's archive form, or undefined for what the archive does not keep. */
export function archiveRecordFromProsody(stanza: XmlNode, when: number, roomJid: string) {
  if (stanza.name !== 'message' || stanza.attrs.type !== 'groupchat') return undefined;
  const msg = toElement(stanza);
  const tombstone = isProsodyTombstone(msg);
  if (!tombstone && !isArchivable(msg)) return undefined;
  if (tombstone) addCurrentRetraction(msg, tombstone);
  const nick = resourceOf(msg.attrs.from ?? '');
  if (!nick) return undefined;
  const realJid = msg.getChild('x', MUC_NS.USER)?.getChild('item')?.attrs.jid as string | undefined;
  const occupantId = msg.getChild('occupant-id', MUC_NS.OCCUPANT_ID)?.attrs.id as string | undefined;
  // mod_muc_mam keeps the archive time as a `stamp` attribute on the stored stanza: not part of the message.
  delete msg.attrs.stamp;
  msg.attrs.from = `${roomJid}/${nick}`;
  return {
    ts: Math.round(when * 1000),
    nick,
    realJid: realJid?.split('/')[0],
    occupantId,
    xml: prepareForArchive(msg, roomJid),
  };
}

const MARKER = 'livechat-import.json';

/**
 * Imports every room of a livechat Prosody data folder into `dataDir` (see the module comment). A room whose file
 * already exists here is skipped entirely (nothing overwritten), so calling this again only adds rooms that are
 * still missing; a summary is written to `<dataDir>/livechat-import.json`. Unreadable files are reported in
 * `errors` and skipped; the other rooms are still imported.
 */
export async function importLivechatProsody(opts: LivechatImportOptions): Promise<LivechatImportReport> {
  const log = opts.log ?? (() => undefined);
  const errors: string[] = [];
  const onError = (msg: string) => {
    errors.push(msg);
    log('warn', `import: skipped ${msg}`);
  };
  const info = await stat(opts.prosodyDataDir).catch((err: Error) => {
    throw new Error(`cannot read the Prosody data folder: ${err.message}`);
  });
  if (!info.isDirectory()) throw new Error(`${opts.prosodyDataDir} is not a folder`);
  const hosts = opts.fromHosts ?? (await findMucHosts(opts.prosodyDataDir));
  const store = new RoomStore(join(opts.dataDir, 'muc'), silentLogger);
  const archive = new FileArchive(
    opts.dataDir,
    { ...opts.archive, pruneIntervalSeconds: 0 },
    {
      pruneUnopened: false,
      log: (level, msg) => {
        if (level !== 'info') log('warn', msg);
      },
    },
  );
  const report: LivechatImportReport = { rooms: [], errors };
  try {
    for (const host of hosts) {
      for (const room of await readRooms(opts.prosodyDataDir, host, onError)) {
        report.rooms.push(await importRoom(room, opts, store, archive, onError));
        const r = report.rooms[report.rooms.length - 1];
        log(
          'info',
          `import: ${r.from} -> ${r.jid}: ${r.skipped ?? `${r.affiliations} affiliations, ${r.messages} messages`}`,
        );
      }
    }
  } finally {
    await store.flush();
    await archive.close();
  }
  // Nothing found, nothing recorded: a later run (e.g. after pointing at the right folder) still happens.
  if (report.rooms.length === 0 && errors.length === 0) return report;
  const previous = await readJson<{ imports?: unknown[] }>(join(opts.dataDir, MARKER)).catch(() => undefined);
  await writeJson(join(opts.dataDir, MARKER), {
    imports: [
      ...(Array.isArray(previous?.imports) ? previous.imports : []),
      { at: new Date().toISOString(), from: opts.prosodyDataDir, rooms: report.rooms, errors },
    ],
  });
  return report;
}

async function importRoom(
  room: ProsodyRoom,
  opts: LivechatImportOptions,
  store: RoomStore,
  archive: FileArchive,
  onError: (m: string) => void,
): Promise<ImportedRoom> {
  const at = room.jid.indexOf('@');
  const localpart = (at > 0 ? room.jid.slice(0, at) : room.jid).toLowerCase();
  const jid = `${localpart}@${opts.mucHost}`;
  const result: ImportedRoom = { jid, from: room.jid, affiliations: 0, messages: 0 };
  if (!localpart || /[\s"&'/:<>@]/.test(localpart)) {
    result.skipped = 'not a valid room name';
    return result;
  }
  if (await readJson(join(store.dir, roomFileName(localpart))).catch(() => true)) {
    result.skipped = 'already present';
    return result;
  }
  // No room file here yet, so an archive folder of this name is left over from an import that stopped half-way
  // (the room file is written last): start it again from scratch.
  await archive.deleteRoom(jid);
  const ra = await archive.open(jid);
  try {
    for await (const item of readArchive(opts.prosodyDataDir, room.jid, onError)) {
      const rec = archiveRecordFromProsody(item.stanza, item.when, jid);
      if (!rec) continue;
      // Prosody's archive id is the stanza-id clients saw: kept, so their MAM paging, replies and pins still resolve.
      ra.append({ ...rec, keepId: item.key });
      result.messages++;
      // Keep the write queue bounded on large archives.
      if (result.messages % 2000 === 0) await ra.flush();
    }
  } catch (err) {
    onError(
      `archive of ${room.jid} (kept the ${result.messages} messages before the error): ${(err as Error).message}`,
    );
  }
  await ra.flush();
  await archive.closeRoom(jid);

  const subjectText = typeof room.data.get('subject') === 'string' ? (room.data.get('subject') as string) : '';
  const subjectTime = room.data.get('subject_time');
  const affiliations = affiliationsFromProsody(room);
  result.affiliations = Object.keys(affiliations).length;
  const stored: StoredRoom = {
    version: 1,
    localpart,
    config: roomConfigFromProsody(room.data, opts.logByDefault ?? true, opts.maxHistoryLength),
    affiliations,
    subject: {
      text: subjectText,
      nick: resourceOf(
        typeof room.data.get('subject_from') === 'string' ? (room.data.get('subject_from') as string) : '',
      ),
      ts: typeof subjectTime === 'number' && Number.isFinite(subjectTime) ? Math.round(subjectTime * 1000) : 0,
    },
    // Prosody's salt, marked so the room keeps deriving occupant ids Prosody's way (src/muc/prosody-occupant-id.ts).
    occupantIdSalt:
      typeof room.data.get('occupant_id_salt') === 'string'
        ? PROSODY_SALT_PREFIX + (room.data.get('occupant_id_salt') as string)
        : randomBytes(16).toString('base64url'),
  };
  store.save(stored);
  await store.flush();
  return result;
}
