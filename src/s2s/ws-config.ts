// `s2s.websocket`: server-to-server over WebSocket (XEP-0468), the way PeerTube instances federate their chats
// through their HTTP front.
import { ConfigError, asObject, bool, int, onlyKeys, optStr, str, type Raw } from '../config-schema.js';

export interface WsS2sConfig {
  /** Accept incoming WebSocket S2S on the HTTP port at `path`. */
  enabled: boolean;
  path: string;
  /** Domain → the peer's WebSocket S2S URL (ws:// or wss://). */
  routes: Record<string, string>;
  /** livechat's `serverInfos` folder (`<host>/ws-s2s` and `<host>/s2s` JSON files), read at each new connection. */
  serverInfosDir?: string;
  /** Our public base URL, sent to peers in the `peertube-livechat-ws-s2s-instance-url` header. */
  instanceUrl?: string;
  /** WebSocket ping interval on sockets we open, in seconds (livechat pings every 55 s; nginx cuts at 60 s). */
  pingIntervalSeconds: number;
}

export function defaultWsS2sConfig(): WsS2sConfig {
  return { enabled: false, path: '/xmpp-websocket-s2s', routes: {}, pingIntervalSeconds: 50 };
}

const KEYS = ['enabled', 'path', 'routes', 'serverInfosDir', 'instanceUrl', 'pingIntervalSeconds'];

export function validateWsS2s(raw: unknown, path: string): WsS2sConfig {
  const o = asObject(raw, path);
  onlyKeys(o, KEYS, path);
  const d = defaultWsS2sConfig();
  const routes: Record<string, string> = {};
  for (const [domain, v] of Object.entries(asObject(o.routes, `${path}.routes`) as Raw)) {
    if (typeof v !== 'string' || !isWsUrl(v))
      throw new ConfigError(`${path}.routes.${domain}`, `expected a ws:// or wss:// URL, got ${JSON.stringify(v)}`);
    routes[domain.toLowerCase()] = v;
  }
  const instanceUrl = optStr(o, 'instanceUrl', path);
  if (instanceUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(instanceUrl))
    throw new ConfigError(`${path}.instanceUrl`, `expected an http(s) URL, got ${JSON.stringify(instanceUrl)}`);
  const serverInfosDir = optStr(o, 'serverInfosDir', path);
  return {
    enabled: bool(o, 'enabled', d.enabled, path),
    path: str(o, 'path', d.path, path, (s) => (s.startsWith('/') ? null : 'must start with "/"')),
    routes,
    ...(serverInfosDir ? { serverInfosDir } : {}),
    ...(instanceUrl ? { instanceUrl } : {}),
    pingIntervalSeconds: int(o, 'pingIntervalSeconds', d.pingIntervalSeconds, path, 1, 55),
  };
}

export function isWsUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'ws:' || u.protocol === 'wss:';
  } catch {
    return false;
  }
}
