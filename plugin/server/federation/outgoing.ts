// Outgoing ActivityPub: the FEP-1970 discussion links, livechat's `peertubeLiveChat` attribute and its JSON-LD term.
import type {
  DiscussionLink,
  LegacyAnonymousLink,
  LocalChatServer,
  PeertubeLiveChatAttribute,
  PeertubeLiveChatInfos,
  VideoJsonLd,
} from './types.js';
import { buildServerInfos } from './server-infos.js';
import { publicChatUrl, xmppDomainOf } from './urls.js';

/** The English label livechat gives its discussion links (followed by the video title). */
export const DEFAULT_CHAT_TITLE_PREFIX = 'Chat for live stream:';

/** Room JID of a video: `<uuid>@room.<host>`, or `channel.<id>@room.<host>` with one room per channel. */
export function roomJidOf(
  webserverUrl: string,
  roomType: 'video' | 'channel',
  video: { uuid: string; channelId: number | string },
): string {
  const local = roomType === 'channel' ? `channel.${video.channelId}` : video.uuid;
  return `${local}@room.${xmppDomainOf(webserverUrl)}`;
}

export interface VideoChatPublication {
  /** The video the object describes (PeerTube's `context.video`). */
  video: { uuid: string; remote: boolean; name: string };
  /** Room JID when the video has a chat under the current settings, `false` when it has none. */
  roomJid: string | false;
  server: LocalChatServer;
  /** Channel's custom emojis definition URL, if the channel has some. */
  customEmojisUrl?: string;
  /** Label before the video title in the links; defaults to livechat's English label. */
  chatTitlePrefix?: string;
}

export interface VideoJsonLdWithChat<T> {
  /** The object to return from the hook (a shallow copy when chat data was added). */
  jsonld: T & { attachment?: unknown; peertubeLiveChat?: PeertubeLiveChatAttribute };
  /**
   * What to store under `videoInfos/local/<uuid>.json` (`false` removes it), as livechat keeps a copy of what it sent;
   * `undefined` for remote videos, which are left alone.
   */
  store: PeertubeLiveChatAttribute | undefined;
}

/**
 * For `filter:activity-pub.video.json-ld.build.result`. Adds to a local video with a chat the FEP-1970 attachments
 * (`Link`, rel `discussion`, the public chat page, plus `xmpp:<room>?join` when direct S2S is announced) appended to
 * any existing attachment, and livechat's `peertubeLiveChat` attribute. Videos without chat, and all videos when the
 * admin keeps the chat off other instances, are returned unchanged; so are remote videos.
 */
export function addChatToVideoJsonLd<T extends VideoJsonLd>(
  jsonld: T,
  pub: VideoChatPublication,
): VideoJsonLdWithChat<T> {
  if (pub.video.remote) return { jsonld, store: undefined };
  if (pub.server.dontPublishRemotely || pub.roomJid === false) return { jsonld, store: false };

  const serverInfos = buildServerInfos(pub.server);
  const name = `${pub.chatTitlePrefix ?? DEFAULT_CHAT_TITLE_PREFIX} ${pub.video.name}`;
  const links: DiscussionLink[] = [
    { type: 'Link', name, rel: 'discussion', href: publicChatUrl(pub.server, jsonld.uuid) },
  ];
  if (serverInfos.directs2s) links.push({ type: 'Link', name, rel: 'discussion', href: `xmpp://${pub.roomJid}?join` });

  const existing = jsonld.attachment;
  const attachment =
    existing === undefined || existing === null
      ? links
      : Array.isArray(existing)
        ? [...existing, ...links]
        : [existing, ...links];

  const legacy: LegacyAnonymousLink[] = [];
  const anon = serverInfos.anonymous;
  if (anon?.bosh) legacy.push({ type: 'xmpp-bosh-anonymous', url: anon.bosh, jid: anon.virtualhost });
  if (anon?.websocket) legacy.push({ type: 'xmpp-websocket-anonymous', url: anon.websocket, jid: anon.virtualhost });

  const peertubeLiveChat: PeertubeLiveChatInfos = {
    type: 'xmpp',
    jid: pub.roomJid,
    links: legacy,
    xmppserver: serverInfos,
  };
  if (pub.customEmojisUrl) peertubeLiveChat.customEmojisUrl = pub.customEmojisUrl;
  return { jsonld: { ...jsonld, attachment, peertubeLiveChat }, store: peertubeLiveChat };
}

/** The JSON-LD term livechat declares for `peertubeLiveChat` (a JSON literal in its own URN namespace). */
export const PEERTUBE_LIVECHAT_CONTEXT = {
  ptlc: 'urn:peertube-plugin-livechat',
  peertubeLiveChat: { '@id': 'ptlc:peertubeLiveChat', '@type': '@json' },
} as const;

/**
 * For `filter:activity-pub.activity.context.build.result`. PeerTube calls it for every kind of object without saying
 * which; only a video's context has an entry defining `isLiveBroadcast`, so the term is added only there. Returns a new
 * array: PeerTube hands the hook its shared context array, which must not change.
 */
export function addChatJsonLdContext<T>(context: T[]): Array<T | typeof PEERTUBE_LIVECHAT_CONTEXT> {
  const isVideo = context.some((e) => typeof e === 'object' && e !== null && 'isLiveBroadcast' in e);
  return isVideo ? [...context, PEERTUBE_LIVECHAT_CONTEXT] : context;
}
