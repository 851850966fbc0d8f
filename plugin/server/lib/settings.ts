// The plugin's admin settings, under the livechat plugin's names and defaults (so an instance switching from it
// keeps its configuration), and their mapping to typed values. PeerTube hands settings back raw: a key the admin
// never saved may be missing or null once any other setting was saved, checkboxes may come back as strings.

export type RoomType = 'video' | 'channel';
export type AvatarSet = 'sepia' | 'cat' | 'bird' | 'fenec' | 'abstract' | 'legacy' | 'none';
export type ShareUrl = 'nobody' | 'everyone' | 'owner' | 'owner+moderators';

export interface LivechatSettings {
  chatTerms: string;
  federationNoRemoteChat: boolean;
  federationDontPublishRemotely: boolean;
  tokensDisabled: boolean;
  roomType: RoomType;
  autoDisplay: boolean;
  openBlank: boolean;
  shareUrl: ShareUrl;
  perLiveVideo: boolean;
  allLives: boolean;
  allNonLives: boolean;
  /** Video URLs or UUIDs (one per line) that always have a chat. */
  videosList: string[];
  noAnonymous: boolean;
  /** Banning an anonymous viewer also bans its address from the room for a while. */
  autoBanAnonymousIp: boolean;
  avatarSet: AvatarSet;
  /** New rooms archive their messages. */
  mucLogByDefault: boolean;
  /** Archive retention in the livechat syntax: '1w', '30d', '2m', '1y', 'never'. */
  mucExpiration: string;
  roomAllowS2s: boolean;
  s2sPort: number;
  s2sInterfaces: string[];
  certificatesDir: string;
  c2s: boolean;
  c2sPort: number;
  c2sInterfaces: string[];
  disableWebsocket: boolean;
  /** Streamers' channel options off: no moderation bot. */
  disableChannelConfiguration: boolean;
}

type SettingType = 'input' | 'input-checkbox' | 'input-textarea' | 'select' | 'html';

export interface SettingDefinition {
  name: string;
  label: string;
  type: SettingType;
  default: string | boolean;
  private: boolean;
  descriptionHTML?: string;
  options?: Array<{ value: string; label: string }>;
}

const opt = (...values: string[]) => values.map((value) => ({ value, label: value }));

/** Every setting this plugin honours, with livechat's name, type and default. */
export const SETTINGS: SettingDefinition[] = [
  {
    name: 'prosody-room-type',
    label: 'Room type',
    type: 'select',
    default: 'video',
    private: false,
    options: [
      { value: 'video', label: 'One room per video' },
      { value: 'channel', label: 'One room per channel' },
    ],
  },
  {
    name: 'chat-auto-display',
    label: 'Show the chat automatically beside the video',
    type: 'input-checkbox',
    default: true,
    private: false,
  },
  {
    name: 'chat-open-blank',
    label: 'Show the "open in new window" button',
    type: 'input-checkbox',
    default: true,
    private: false,
  },
  {
    name: 'chat-share-url',
    label: 'Who may share the chat URL',
    type: 'select',
    default: 'owner',
    private: false,
    options: opt('nobody', 'everyone', 'owner', 'owner+moderators'),
  },
  {
    name: 'chat-per-live-video',
    label: 'Users can turn the chat on for their lives',
    type: 'input-checkbox',
    default: true,
    private: false,
  },
  { name: 'chat-all-lives', label: 'Chat on every live', type: 'input-checkbox', default: false, private: false },
  {
    name: 'chat-all-non-lives',
    label: 'Chat on every video that is not a live',
    type: 'input-checkbox',
    default: false,
    private: false,
  },
  {
    name: 'chat-videos-list',
    label: 'Chat on these videos (one URL or UUID per line)',
    type: 'input-textarea',
    default: '',
    private: false,
  },
  {
    name: 'chat-no-anonymous',
    label: 'Hide the chat from anonymous viewers',
    type: 'input-checkbox',
    default: false,
    private: false,
  },
  {
    name: 'auto-ban-anonymous-ip',
    label: "Ban an anonymous user's address when the user is banned from a room (for 24 hours)",
    type: 'input-checkbox',
    default: false,
    private: true,
  },
  {
    name: 'chat-terms',
    label: 'Terms and conditions shown to chat users',
    type: 'input-textarea',
    default: '',
    private: true,
  },
  {
    name: 'avatar-set',
    label: 'Avatars of anonymous users',
    type: 'select',
    default: 'sepia',
    private: true,
    options: opt('sepia', 'cat', 'bird', 'fenec', 'abstract', 'legacy', 'none'),
  },
  {
    name: 'livechat-token-disabled',
    label: 'Disable long-term chat tokens (OBS docks)',
    type: 'input-checkbox',
    default: false,
    private: false,
  },
  {
    name: 'federation-no-remote-chat',
    label: 'Do not show chats of remote videos',
    type: 'input-checkbox',
    default: false,
    private: false,
  },
  {
    name: 'federation-dont-publish-remotely',
    label: 'Do not publish chat information to remote servers',
    type: 'input-checkbox',
    default: false,
    private: true,
  },
  {
    name: 'disable-channel-configuration',
    label: 'Disable the channel configuration (moderation bot)',
    type: 'input-checkbox',
    default: false,
    private: false,
  },
  {
    name: 'disable-websocket',
    label: 'Disable WebSocket (BOSH only)',
    type: 'input-checkbox',
    default: false,
    private: false,
  },
  {
    name: 'prosody-muc-log-by-default',
    label: 'Archive room messages by default',
    type: 'input-checkbox',
    default: true,
    private: true,
  },
  {
    name: 'prosody-muc-expiration',
    label: 'Keep archived messages for (e.g. 1w, 30d, 1y, never)',
    type: 'input',
    default: '1w',
    private: true,
  },
  {
    name: 'prosody-room-allow-s2s',
    label: 'Let users of other XMPP servers join rooms (S2S)',
    type: 'input-checkbox',
    default: false,
    private: true,
  },
  { name: 'prosody-s2s-port', label: 'S2S port', type: 'input', default: '5269', private: true },
  {
    name: 'prosody-s2s-interfaces',
    label: 'S2S interfaces (comma separated)',
    type: 'input',
    default: '*, ::',
    private: true,
  },
  { name: 'prosody-certificates-dir', label: 'Certificates folder', type: 'input', default: '', private: true },
  {
    name: 'prosody-c2s',
    label: 'Let XMPP clients connect over TCP (c2s)',
    type: 'input-checkbox',
    default: false,
    private: true,
  },
  { name: 'prosody-c2s-port', label: 'c2s port', type: 'input', default: '52822', private: true },
  {
    name: 'prosody-c2s-interfaces',
    label: 'c2s interfaces (comma separated)',
    type: 'input',
    default: '127.0.0.1, ::1',
    private: true,
  },
];

export const SETTING_NAMES = SETTINGS.map((s) => s.name);

/** Settings whose change needs the chat server restarted (domains, listeners, archive retention). */
export const RESTART_KEYS: Array<keyof LivechatSettings> = [
  'noAnonymous',
  'autoBanAnonymousIp',
  'avatarSet',
  'mucExpiration',
  'mucLogByDefault',
  'roomAllowS2s',
  's2sPort',
  's2sInterfaces',
  'certificatesDir',
  'federationDontPublishRemotely',
  'c2s',
  'c2sPort',
  'c2sInterfaces',
  'disableChannelConfiguration',
];

const DEFAULTS = new Map(SETTINGS.map((s) => [s.name, s.default]));

function raw(values: Record<string, unknown>, name: string): unknown {
  const v = values[name];
  return v === undefined || v === null ? DEFAULTS.get(name) : v;
}

function bool(values: Record<string, unknown>, name: string): boolean {
  const v = raw(values, name);
  if (v === true || v === 'true' || v === 1 || v === '1') return true;
  if (v === false || v === 'false' || v === 0 || v === '0' || v === '' || v === 'null') return false;
  return DEFAULTS.get(name) === true;
}

function text(values: Record<string, unknown>, name: string): string {
  const v = raw(values, name);
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : String(DEFAULTS.get(name) ?? '');
}

function choice<T extends string>(values: Record<string, unknown>, name: string, allowed: readonly T[]): T {
  const v = text(values, name).trim();
  return (allowed as readonly string[]).includes(v) ? (v as T) : (DEFAULTS.get(name) as T);
}

function port(values: Record<string, unknown>, name: string): number {
  const v = text(values, name).trim();
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  return n >= 1 && n <= 65535 ? n : Number(DEFAULTS.get(name));
}

function list(values: Record<string, unknown>, name: string): string[] {
  return text(values, name)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const EXPIRATION_RE = /^(never|\d+\s*[dwmy]?)$/i;

/** Typed settings from what PeerTube's settings manager returned; unset, null or invalid values take the default. */
export function mapSettings(values: Record<string, unknown>): LivechatSettings {
  const expiration = text(values, 'prosody-muc-expiration').trim().toLowerCase().replace(/\s+/g, '');
  return {
    chatTerms: text(values, 'chat-terms'),
    federationNoRemoteChat: bool(values, 'federation-no-remote-chat'),
    federationDontPublishRemotely: bool(values, 'federation-dont-publish-remotely'),
    tokensDisabled: bool(values, 'livechat-token-disabled'),
    roomType: choice(values, 'prosody-room-type', ['video', 'channel'] as const),
    autoDisplay: bool(values, 'chat-auto-display'),
    openBlank: bool(values, 'chat-open-blank'),
    shareUrl: choice(values, 'chat-share-url', ['nobody', 'everyone', 'owner', 'owner+moderators'] as const),
    perLiveVideo: bool(values, 'chat-per-live-video'),
    allLives: bool(values, 'chat-all-lives'),
    allNonLives: bool(values, 'chat-all-non-lives'),
    videosList: text(values, 'chat-videos-list')
      .split(/[\r\n]+/)
      .map((s) => s.trim())
      .filter((s) => s.length > 0 && !s.startsWith('#')),
    noAnonymous: bool(values, 'chat-no-anonymous'),
    autoBanAnonymousIp: bool(values, 'auto-ban-anonymous-ip'),
    avatarSet: choice(values, 'avatar-set', ['sepia', 'cat', 'bird', 'fenec', 'abstract', 'legacy', 'none'] as const),
    mucLogByDefault: bool(values, 'prosody-muc-log-by-default'),
    mucExpiration: EXPIRATION_RE.test(expiration) ? expiration : String(DEFAULTS.get('prosody-muc-expiration')),
    roomAllowS2s: bool(values, 'prosody-room-allow-s2s'),
    s2sPort: port(values, 'prosody-s2s-port'),
    s2sInterfaces: list(values, 'prosody-s2s-interfaces'),
    certificatesDir: text(values, 'prosody-certificates-dir').trim(),
    c2s: bool(values, 'prosody-c2s'),
    c2sPort: port(values, 'prosody-c2s-port'),
    c2sInterfaces: list(values, 'prosody-c2s-interfaces'),
    disableWebsocket: bool(values, 'disable-websocket'),
    disableChannelConfiguration: bool(values, 'disable-channel-configuration'),
  };
}

/** Whether going from `a` to `b` needs the chat server restarted. */
export function needsRestart(a: LivechatSettings, b: LivechatSettings): boolean {
  return RESTART_KEYS.some((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}
