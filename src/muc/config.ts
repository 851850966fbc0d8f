// Typed `muc` config section: who may create rooms, the defaults a new room starts with, and live-stream limits.
import { ConfigError, asObject, bool, int, onlyKeys, oneOf, optStr, str, strList, type Raw } from '../config-schema.js';
import type { Affiliation, AllowPm, Role, RoomConfig, Whois } from './types.js';

export type CreationPolicy = 'anyone' | 'accounts' | 'callback';

/** Who sees whose presence: everyone everyone, only privileged occupants and recent speakers, or that above a size. */
export type PresenceMode = 'all' | 'speakers' | 'auto';
export const PRESENCE_MODES: readonly PresenceMode[] = ['all', 'speakers', 'auto'];

/** Visible occupants (features/visible-occupants.ts): presences of silent viewers reach only moderators. */
export interface VisibleOccupantsConfig {
  /** Default for rooms whose owner did not choose (muc#roomconfig_x_livechat_presence_mode). */
  mode: PresenceMode;
  /** In 'auto' rooms, viewers joining when this many occupants are already in are silent until they speak. */
  threshold: number;
  /** A silent viewer who spoke stays visible to everyone this long after its last message (seconds). */
  speakerTimeout: number;
  /** At most this many such speakers are visible at once; the least recent drops out first. */
  maxSpeakers: number;
}

/** What the creation callback (the PeerTube plugin) hands back for a room it allows. */
export interface RoomSeed {
  config?: Partial<RoomConfig>;
  /** Bare JID → affiliation. */
  affiliations?: Record<string, Affiliation>;
  /** The PeerTube channel the room belongs to: its moderator team applies (MucService.teams). */
  channel?: string;
}

/** Decides whether `creatorJid` may create `roomJid`; false refuses. Also used for programmatic creation. */
export type CreationCallback = (roomJid: string, creatorJid: string) => Promise<RoomSeed | false> | RoomSeed | false;

export interface MucConfig {
  /** Service host: the server config's `mucHost` (room.<domain> by default). */
  host: string;
  creation: CreationPolicy;
  /** Room configuration a new room starts with (before any seed from the callback). */
  defaultRoomConfig: RoomConfig;
  /** Groupchat messages carrying only a chat state are dropped in rooms with at least this many occupants. */
  chatStateDropThreshold: number;
  /** Hard cap on occupants per room whatever the room's own max users says. */
  maxOccupants: number;
  /** Largest `muc#roomconfig_historylength` an owner may choose. */
  maxHistoryLength: number;
  /**
   * With a limited presence broadcast, moderators still see every occupant's presence (live-stream moderation).
   * Prosody sends non-broadcast roles to nobody; set false to match it.
   */
  moderatorsSeeAllPresences: boolean;
  /** Service-wide persistent room that exists at start (the standalone demo room), or none. */
  demoRoom: string | null;
  /** Terms every joiner is shown (livechat's `chat-terms` plugin setting); empty: none. */
  terms: string;
  /**
   * livechat's `auto-ban-anonymous-ip`: banning an anonymous occupant also bans its address from the room for
   * this many seconds (an ip-ban entry that expires); 0: off.
   */
  autoBanAnonymousIpSeconds: number;
  /** Nickname the terms come from, reserved in every room (livechat uses "Peertube"). */
  termsNickname: string;
  visibleOccupants: VisibleOccupantsConfig;
}

export const DEFAULT_ROOM_CONFIG: RoomConfig = {
  name: '',
  description: '',
  lang: '',
  persistent: false,
  public: true,
  moderated: false,
  membersOnly: false,
  password: '',
  maxUsers: 0,
  whois: 'moderators',
  changeSubject: false,
  allowPm: 'anyone',
  presenceBroadcast: ['moderator', 'participant', 'visitor'],
  historyLength: 20,
  enableArchiving: true,
  allowInvites: false,
};

export function defaultMucConfig(domain: string): MucConfig {
  return {
    host: `room.${domain}`,
    creation: 'anyone',
    defaultRoomConfig: { ...DEFAULT_ROOM_CONFIG, presenceBroadcast: [...DEFAULT_ROOM_CONFIG.presenceBroadcast] },
    chatStateDropThreshold: 100,
    maxOccupants: 20000,
    maxHistoryLength: 100,
    moderatorsSeeAllPresences: true,
    demoRoom: null,
    terms: '',
    termsNickname: 'Peertube',
    autoBanAnonymousIpSeconds: 0,
    visibleOccupants: { mode: 'auto', threshold: 100, speakerTimeout: 1800, maxSpeakers: 200 },
  };
}

const ROOM_KEYS = [
  'name',
  'description',
  'lang',
  'persistent',
  'public',
  'moderated',
  'membersOnly',
  'password',
  'maxUsers',
  'whois',
  'changeSubject',
  'allowPm',
  'presenceBroadcast',
  'historyLength',
  'enableArchiving',
  'allowInvites',
] as const;

/** Validates the raw `muc` section; the service's host is the server's one `mucHost` setting. */
export function validateMuc(raw: unknown, path: string, mucHost: string): MucConfig {
  const o = asObject(raw, path);
  // One MUC host for everything (service, certificates, S2S, web chat): a second setting could only disagree.
  if (o.host !== undefined)
    throw new ConfigError(path ? `${path}.host` : 'host', 'the MUC host is set by the top-level "mucHost"');
  onlyKeys(
    o,
    [
      'creation',
      'defaultRoomConfig',
      'chatStateDropThreshold',
      'maxOccupants',
      'maxHistoryLength',
      'moderatorsSeeAllPresences',
      'demoRoom',
      'terms',
      'termsNickname',
      'autoBanAnonymousIpSeconds',
      'visibleOccupants',
    ],
    path,
  );
  const p = (k: string) => (path ? `${path}.${k}` : k);
  const def = defaultMucConfig('localhost');
  const maxHistoryLength = int(o, 'maxHistoryLength', def.maxHistoryLength, path, 0, 10000);
  const r = asObject(o.defaultRoomConfig, p('defaultRoomConfig'));
  onlyKeys(r, ROOM_KEYS, p('defaultRoomConfig'));
  const rp = p('defaultRoomConfig');
  const roles = strList(r, 'presenceBroadcast', DEFAULT_ROOM_CONFIG.presenceBroadcast, rp);
  for (const role of roles) {
    if (!['moderator', 'participant', 'visitor', 'none'].includes(role))
      throw new ConfigError(`${rp}.presenceBroadcast`, `unknown role "${role}"`);
  }
  const defaultRoomConfig: RoomConfig = {
    name: str(r, 'name', '', rp),
    description: str(r, 'description', '', rp),
    lang: str(r, 'lang', '', rp),
    persistent: bool(r, 'persistent', DEFAULT_ROOM_CONFIG.persistent, rp),
    public: bool(r, 'public', DEFAULT_ROOM_CONFIG.public, rp),
    moderated: bool(r, 'moderated', DEFAULT_ROOM_CONFIG.moderated, rp),
    membersOnly: bool(r, 'membersOnly', DEFAULT_ROOM_CONFIG.membersOnly, rp),
    password: str(r, 'password', '', rp),
    maxUsers: int(r, 'maxUsers', 0, rp, 0, 1_000_000),
    whois: oneOf<Whois>(r, 'whois', DEFAULT_ROOM_CONFIG.whois, ['moderators', 'anyone'], rp),
    changeSubject: bool(r, 'changeSubject', DEFAULT_ROOM_CONFIG.changeSubject, rp),
    allowPm: oneOf<AllowPm>(
      r,
      'allowPm',
      DEFAULT_ROOM_CONFIG.allowPm,
      ['anyone', 'participants', 'moderators', 'none'],
      rp,
    ),
    presenceBroadcast: roles as Role[],
    historyLength: int(r, 'historyLength', DEFAULT_ROOM_CONFIG.historyLength, rp, 0, maxHistoryLength),
    enableArchiving: bool(r, 'enableArchiving', DEFAULT_ROOM_CONFIG.enableArchiving, rp),
    allowInvites: bool(r, 'allowInvites', DEFAULT_ROOM_CONFIG.allowInvites, rp),
  };
  const demo = optStr(o as Raw, 'demoRoom', path);
  return {
    host: mucHost,
    creation: oneOf<CreationPolicy>(o, 'creation', 'anyone', ['anyone', 'accounts', 'callback'], path),
    defaultRoomConfig,
    chatStateDropThreshold: int(o, 'chatStateDropThreshold', def.chatStateDropThreshold, path, 0, 1_000_000),
    maxOccupants: int(o, 'maxOccupants', def.maxOccupants, path, 1, 1_000_000),
    maxHistoryLength,
    moderatorsSeeAllPresences: bool(o, 'moderatorsSeeAllPresences', true, path),
    demoRoom: demo && demo.length ? demo : null,
    terms: str(o, 'terms', '', path),
    termsNickname: nonEmpty(str(o, 'termsNickname', def.termsNickname, path), p('termsNickname')),
    autoBanAnonymousIpSeconds: int(o, 'autoBanAnonymousIpSeconds', 0, path, 0, 365 * 86400),
    visibleOccupants: validateVisibleOccupants(o.visibleOccupants, p('visibleOccupants'), def.visibleOccupants),
  };
}

function validateVisibleOccupants(raw: unknown, path: string, def: VisibleOccupantsConfig): VisibleOccupantsConfig {
  const o = asObject(raw, path);
  onlyKeys(o, ['mode', 'threshold', 'speakerTimeout', 'maxSpeakers'], path);
  return {
    mode: oneOf<PresenceMode>(o, 'mode', def.mode, PRESENCE_MODES, path),
    threshold: int(o, 'threshold', def.threshold, path, 0, 1_000_000),
    speakerTimeout: int(o, 'speakerTimeout', def.speakerTimeout, path, 1, 7 * 86400),
    maxSpeakers: int(o, 'maxSpeakers', def.maxSpeakers, path, 1, 100_000),
  };
}

function nonEmpty(v: string, field: string): string {
  if (!v.trim()) throw new ConfigError(field, 'must not be empty');
  return v;
}
