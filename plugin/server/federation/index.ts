// Federation and feed functions of the PeerTube plugin. They take plain values (no PeerTube object or import at
// run time) so register() wires them into hooks and tests call them directly.
export type {
  ChatServerInfos,
  DiscussionLink,
  LegacyAnonymousLink,
  LocalChatServer,
  PeertubeLiveChatAttribute,
  PeertubeLiveChatInfos,
  PodcastCustomTag,
  VideoJsonLd,
} from './types.js';
export {
  boshUrl,
  federationServerInfosUrl,
  publicChatUrl,
  websocketS2SUrl,
  websocketUrl,
  xmppDomainOf,
} from './urls.js';
export { buildServerInfos } from './server-infos.js';
export {
  DEFAULT_CHAT_TITLE_PREFIX,
  PEERTUBE_LIVECHAT_CONTEXT,
  addChatJsonLdContext,
  addChatToVideoJsonLd,
  roomJidOf,
  type VideoChatPublication,
  type VideoJsonLdWithChat,
} from './outgoing.js';
export { addPodcastChatTag, type PodcastChatItem } from './podcast.js';
export { referenceHostOf, sanitizeLiveChatInfos, sanitizeServerInfos, validHost } from './sanitize.js';
export {
  hasServerInfos,
  readVideoChatInfos,
  serverInfosDirOf,
  storeRemoteServerInfos,
  storeVideoChatInfos,
  videoInfosPath,
  type VideoRef,
} from './storage.js';
// The serverInfos reader is the S2S layer's: one module for both.
export { readServerInfos, type StoredServerInfos } from '../../../src/s2s/server-infos.js';
export {
  fetchMissingServerInfos,
  readIncomingVideo,
  storeFetchedServerInfos,
  type FetchServerInfosOptions,
} from './incoming.js';
