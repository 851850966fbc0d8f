// What this instance announces about its chat server: in every Video object and at `api/federation_server_infos`.
import type { ChatServerInfos, LocalChatServer } from './types.js';
import { boshUrl, websocketS2SUrl, websocketUrl, xmppDomainOf } from './urls.js';

/**
 * Builds the `xmppserver` object livechat publishes: domains, direct S2S port when rooms accept S2S and a port is set,
 * the WebSocket S2S URL unless the admin keeps the chat off other instances, and the anonymous endpoints unless
 * anonymous viewers are disabled. Also the JSON body of `GET …/router/api/federation_server_infos`.
 */
export function buildServerInfos(server: LocalChatServer): ChatServerInfos {
  const host = xmppDomainOf(server.webserverUrl);
  // Only the domains this server serves: livechat also names `external.<host>` (its OpenID Connect accounts), which
  // this server has not; announcing it would send remote servers to a domain nobody answers for.
  const infos: ChatServerInfos = { host, muc: `room.${host}` };
  const port = server.s2sPort === undefined || server.s2sPort === null ? '' : String(server.s2sPort);
  if (server.allowS2S && port !== '') infos.directs2s = { port };
  if (!server.dontPublishRemotely) infos.websockets2s = { url: websocketS2SUrl(server) };
  if (!server.noAnonymous) {
    infos.anonymous = { bosh: boshUrl(server), virtualhost: `anon.${host}` };
    if (!server.disableWebsocket) infos.anonymous.websocket = websocketUrl(server);
  }
  return infos;
}
