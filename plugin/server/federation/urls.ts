// Public URLs of the chat endpoints, version-less (`/plugins/<short>/router/…`, `/plugins/<short>/ws/…`) so they stay
// valid across plugin upgrades, exactly as livechat publishes them.
import type { LocalChatServer } from './types.js';

/** The XMPP domain of an instance: the host name of its PeerTube URL, without port. */
export function xmppDomainOf(webserverUrl: string): string {
  const host = new URL(webserverUrl).hostname;
  if (!host) throw new Error(`cannot read a host name from the PeerTube URL '${webserverUrl}'`);
  return host;
}

function pluginUrl(server: LocalChatServer, kind: 'router' | 'ws', path: string): URL {
  return new URL(`/plugins/${server.pluginShortName}/${kind}/${path}`, server.webserverUrl);
}

function asWebSocket(u: URL): string {
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

/** `https://<host>/plugins/<short>/router/webchat/room/<uuid>`: the embeddable chat page of a video. */
export function publicChatUrl(server: LocalChatServer, videoUuid: string): string {
  return pluginUrl(server, 'router', `webchat/room/${encodeURIComponent(videoUuid)}`).toString();
}

/** The BOSH endpoint. */
export function boshUrl(server: LocalChatServer): string {
  return pluginUrl(server, 'router', 'http-bind').toString();
}

/** The client WebSocket endpoint (ws/wss after the PeerTube scheme). */
export function websocketUrl(server: LocalChatServer): string {
  return asWebSocket(pluginUrl(server, 'ws', 'xmpp-websocket'));
}

/** The server-to-server WebSocket endpoint. */
export function websocketS2SUrl(server: LocalChatServer): string {
  return asWebSocket(pluginUrl(server, 'ws', 'xmpp-websocket-s2s'));
}

/** Where a remote instance answers its server infos, assuming it runs under the same plugin short name. */
export function federationServerInfosUrl(remoteInstanceUrl: string, pluginShortName: string): string {
  const u = new URL(`/plugins/${pluginShortName}/router/api/federation_server_infos`, remoteInstanceUrl);
  if (u.protocol === 'wss:') u.protocol = 'https:';
  else if (u.protocol === 'ws:') u.protocol = 'http:';
  return u.toString();
}
