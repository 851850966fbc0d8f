// Which video has a chat, which room it uses, and the seed of a room when someone first joins it: the MUC asks
// (createServer's onCreateRoom) and a room whose video has no chat is refused.
import type { RoomSeed, Affiliation } from '../../../src/index.js';
import type { LivechatSettings } from './settings.js';

export interface VideoLike {
  id: number;
  uuid: string;
  name?: string;
  isLive?: boolean;
  remote?: boolean;
  isLocal?: boolean | (() => boolean);
  channelId?: number;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isLocalVideo(v: VideoLike): boolean {
  if (typeof v.isLocal === 'function') return v.isLocal();
  if (typeof v.isLocal === 'boolean') return v.isLocal;
  return v.remote !== true;
}

/** livechat's rule: the per-video switch (when allowed), all lives, all non-lives, or the explicit list. */
export function videoHasChat(v: VideoLike, s: LivechatSettings, active: boolean): boolean {
  if (!isLocalVideo(v)) return false;
  if (v.isLive && s.perLiveVideo && active) return true;
  if (v.isLive && s.allLives) return true;
  if (!v.isLive && s.allNonLives) return true;
  return s.videosList.some(
    (entry) => entry === v.uuid || entry.endsWith(`/${v.uuid}`) || entry.includes(`/${v.uuid}?`),
  );
}

/** The room localpart of a video's chat: its UUID, or `channel.<id>` when rooms are per channel. */
export function roomLocalpart(v: VideoLike, s: LivechatSettings): string {
  return s.roomType === 'channel' && v.channelId ? `channel.${v.channelId}` : v.uuid;
}

export type RoomKey = { kind: 'video'; uuid: string } | { kind: 'channel'; id: number };

export function parseRoomLocalpart(lp: string): RoomKey | null {
  const ch = /^channel\.(\d{1,10})$/.exec(lp);
  if (ch) return { kind: 'channel', id: Number(ch[1]) };
  if (UUID_RE.test(lp)) return { kind: 'video', uuid: lp };
  return null;
}

export interface RoomDeps {
  settings: () => LivechatSettings;
  domain: string;
  loadVideo: (uuid: string) => Promise<VideoLike | null>;
  isChatActive: (videoId: number) => Promise<boolean>;
  /** Username of the channel's owner (PeerTube's loadByIdOrUUID carries no owner: asked from the database). */
  channelOwner: (channelId: number) => Promise<{ username: string; channelName?: string } | null>;
  /** Usernames of instance administrators and moderators. */
  instanceModerators: () => Promise<string[]>;
  /** Room settings a new room of the channel starts with (livechat's per-channel defaults). */
  channelDefaults?: (channelId: number) => Promise<Record<string, unknown>>;
}

/** The creation callback: a seed (name, owner, admins) for a room whose video or channel has a chat, or false. */
export function roomCreationCallback(d: RoomDeps) {
  return async (roomJid: string, _creator: string): Promise<RoomSeed | false> => {
    const lp = roomJid.split('@')[0];
    const key = parseRoomLocalpart(lp);
    if (!key) return false;
    const s = d.settings();
    let name: string;
    let channelId: number | undefined;
    if (key.kind === 'video') {
      if (s.roomType === 'channel') return false;
      const video = await d.loadVideo(key.uuid);
      if (!video || !videoHasChat(video, s, await d.isChatActive(video.id))) return false;
      name = video.name ?? video.uuid;
      channelId = video.channelId;
    } else {
      if (s.roomType !== 'channel') return false;
      channelId = key.id;
      name = '';
    }
    const owner = channelId !== undefined ? await d.channelOwner(channelId) : null;
    if (key.kind === 'channel') {
      if (!owner) return false;
      name = owner.channelName ?? `channel.${key.id}`;
    }
    const affiliations: Record<string, Affiliation> = {};
    for (const u of await d.instanceModerators()) affiliations[`${u.toLowerCase()}@${d.domain}`] = 'admin';
    if (owner) affiliations[`${owner.username.toLowerCase()}@${d.domain}`] = 'owner';
    // The room names its channel, so a channel-wide moderator team (MucService.teams) applies to it.
    const defaults = channelId !== undefined && d.channelDefaults ? await d.channelDefaults(channelId) : {};
    return {
      config: { ...defaults, name, persistent: true },
      affiliations,
      ...(channelId !== undefined ? { channel: String(channelId) } : {}),
    };
  };
}
