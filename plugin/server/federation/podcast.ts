// `<podcast:chat>` (Podcasting 2.0) on live items of PeerTube's podcast feed.
import type { LocalChatServer, PodcastCustomTag } from './types.js';
import { publicChatUrl, xmppDomainOf } from './urls.js';

export interface PodcastChatItem {
  /** PeerTube's `liveItem` hook parameter: the chat tag is only defined for live items. */
  liveItem: boolean;
  videoUuid: string;
  /** Room JID when the video has a chat, `false` otherwise. */
  roomJid: string | false;
  server: LocalChatServer;
}

/**
 * For `filter:feed.podcast.video.create-custom-tags.result` (payload `{ video, liveItem }`, result `CustomTag[]`).
 * Appends `<podcast:chat server protocol="xmpp" embedUrl [space]>` to a live item whose video has a chat; `space`
 * (the room JID) only when direct S2S makes the room reachable from other XMPP servers. Returns a new array; items
 * without chat, non-live items, and everything when the admin keeps the chat off other instances are unchanged.
 */
export function addPodcastChatTag(tags: PodcastCustomTag[], item: PodcastChatItem): PodcastCustomTag[] {
  if (!item.liveItem || item.roomJid === false || item.server.dontPublishRemotely) return tags;
  const attributes: Record<string, string> = {
    server: xmppDomainOf(item.server.webserverUrl),
    protocol: 'xmpp',
    embedUrl: publicChatUrl(item.server, item.videoUuid),
  };
  const port = item.server.s2sPort;
  if (item.server.allowS2S && port !== undefined && port !== null && String(port) !== '')
    attributes.space = item.roomJid;
  return [...tags, { name: 'podcast:chat', attributes }];
}
