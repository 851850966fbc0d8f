// Viewers' own addresses inside PeerTube, for per-IP limits and bans: what Express computed under PeerTube's
// "trust proxy" setting (req.ip). BOSH requests come through PeerTube's router and carry it. WebSocket upgrades do
// not pass through Express, so PeerTube's compiled trust function is taken from the first request on the plugin's
// router (the chat page always loads before its WebSocket opens); until then PeerTube's default, loopback proxies.
import type { IncomingMessage } from 'node:http';
import { clientAddress, plainAddress, trustList, type TrustProxy } from '../../../src/index.js';
import type { RouterLike } from './routes.js';

const PEERTUBE_DEFAULT: TrustProxy = trustList(['loopback']);
let peertubeTrust: TrustProxy | undefined;

/** Remembers PeerTube's trust function from a request Express handled. */
function learn(req: { app?: { get?: (name: string) => unknown } }): void {
  if (peertubeTrust) return;
  const fn = req.app?.get?.('trust proxy fn');
  if (typeof fn === 'function') peertubeTrust = fn as TrustProxy;
}

export function mountClientAddress(router: RouterLike): void {
  router.use((req, _res, next) => {
    learn(req);
    next();
  });
}

/** The address of the client behind PeerTube's trusted proxies. */
export function peertubeClientAddress(req: IncomingMessage & { ip?: unknown }): string {
  if (typeof req.ip === 'string' && req.ip !== '') return plainAddress(req.ip);
  return clientAddress(req, peertubeTrust ?? PEERTUBE_DEFAULT);
}
