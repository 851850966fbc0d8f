// register()/unregister() behind the CommonJS entry: settings, routes, hooks, then the chat server.
import type { PeerTubeOptions } from './peertube.js';
import { LivechatRuntime } from './runtime.js';
import { mountRoutes, webSocketRoutes, type RouterLike } from './routes.js';
import { SETTINGS } from './settings.js';
import { customFieldHooks } from './custom-fields.js';
import { federationHooks } from './federation-hooks.js';
import { roomNameHooks } from './room-names.js';
import { mountChannelConfigRoutes } from './channel-config-routes.js';
import { mountClientAddress } from './client-address.js';

let current: LivechatRuntime | null = null;
const get = () => current;

export async function register(o: PeerTubeOptions): Promise<void> {
  for (const s of SETTINGS) o.registerSetting(s as never);
  // Routes first: PeerTube keeps serving them from its router, they answer 404 until the server is up.
  mountClientAddress(o.getRouter() as unknown as RouterLike);
  mountRoutes(o.getRouter() as unknown as RouterLike, get);
  mountChannelConfigRoutes(o.getRouter() as unknown as RouterLike, get);
  for (const r of webSocketRoutes(get)) o.registerWebSocketRoute(r as never);
  for (const h of [...customFieldHooks(o, get), ...federationHooks(o, get), ...roomNameHooks(get)]) o.registerHook(h as never);
  o.settingsManager.onSettingsChange(async () => {
    // PeerTube does not await this callback: failures are logged here.
    try { await current?.settingsChanged(); } catch (err) { o.peertubeHelpers.logger.error(`livechat: settings change failed: ${(err as Error)?.stack ?? err}`); }
  });
  current = await LivechatRuntime.start(o);
}

export async function unregister(): Promise<void> {
  const rt = current;
  current = null;
  await rt?.stop();
}
