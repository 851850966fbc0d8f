// Wire shapes of peertube-plugin-livechat's federation data, so instances running livechat and instances running this
// server read each other's ActivityPub objects, feeds and stored files.

/** What an instance says about its chat server (`xmppserver` in ActivityPub, body of `api/federation_server_infos`). */
export interface ChatServerInfos {
  /** Main XMPP domain: the PeerTube host name. */
  host: string;
  /** MUC component domain (`room.<host>`). */
  muc: string;
  /** Virtual host for external accounts (`external.<host>`), announced by livechat >= 9. */
  external?: string;
  /** Present when rooms accept classic server-to-server connections on this port. */
  directs2s?: { port: string };
  /** Present when server-to-server over WebSocket is published. */
  websockets2s?: { url: string };
  /** Present when anonymous viewers may chat. */
  anonymous?: { virtualhost: string; bosh?: string; websocket?: string };
}

/** Links of livechat's first format (<= 6.3), still sent so old remotes can connect anonymously. */
export type LegacyAnonymousLink =
  | { type: 'xmpp-bosh-anonymous'; url: string; jid: string }
  | { type: 'xmpp-websocket-anonymous'; url: string; jid: string };

/** The `peertubeLiveChat` attribute of a Video object, as this server publishes it (current and legacy fields). */
export interface PeertubeLiveChatInfos {
  type: 'xmpp';
  /** Room JID. */
  jid: string;
  /** Legacy links for remotes running livechat <= 6.3. */
  links?: LegacyAnonymousLink[];
  xmppserver: ChatServerInfos;
  customEmojisUrl?: string;
}

/** `peertubeLiveChat` as stored and read: the chat infos or `false` for "no chat". */
export type PeertubeLiveChatAttribute = PeertubeLiveChatInfos | false;

/** One FEP-1970 attachment. */
export interface DiscussionLink {
  type: 'Link';
  name: string;
  rel: 'discussion';
  href: string;
}

/** The subset of PeerTube's VideoObject these functions touch; everything else passes through unchanged. */
export interface VideoJsonLd {
  uuid: string;
  name?: string;
  attachment?: unknown;
  peertubeLiveChat?: PeertubeLiveChatAttribute;
  [key: string]: unknown;
}

/** A custom tag in PeerTube's podcast feed (`@peertube/feed`'s CustomTag). */
export interface PodcastCustomTag {
  name: string;
  attributes?: Record<string, string>;
  value?: string | PodcastCustomTag[];
}

/** How this instance's chat is reachable; built by the plugin from PeerTube's URL and the settings. */
export interface LocalChatServer {
  /** PeerTube's public base URL (`peertubeHelpers.config.getWebserverUrl()`), e.g. `https://video.example`. */
  webserverUrl: string;
  /** Plugin short name: `livechat` for the drop-in package. */
  pluginShortName: string;
  /** Setting `prosody-room-allow-s2s`. */
  allowS2S: boolean;
  /** Setting `prosody-s2s-port` (direct S2S is only announced when both this and allowS2S are set). */
  s2sPort?: string | number | null;
  /** Setting `federation-dont-publish-remotely`. */
  dontPublishRemotely: boolean;
  /** Setting `chat-no-anonymous`. */
  noAnonymous: boolean;
  /** Setting `disable-websocket`. */
  disableWebsocket: boolean;
}
