// register()/unregister() behind the CommonJS entry: settings, routes, hooks, then the chat server.
import type { PeerTubeOptions } from './peertube.js';
import { LivechatRuntime } from './runtime.js';
import { mountRoutes, webSocketRoutes, type RouterLike } from './routes.js';
import { SETTINGS } from './settings.js';
import { customFieldHooks } from './custom-fields.js';
import { federationHooks } from './federation-hooks.js';
import { mountChannelEditorRoutes } from './channel-editor-routes.js';
import { roomNameHooks } from './room-names.js';
import { mountChannelConfigRoutes } from './channel-config-routes.js';
import { mountClientAddress } from './client-address.js';

let current: LivechatRuntime | null = null;
const get = () => current;

/**
 * The running chat server of each data folder, process-wide: an updated plugin is a new module instance (see
 * main.cts), and a PeerTube that installs over a registered plugin registers it again without unregistering it
 * first (6.x). The old instance's server is stopped before the new one takes the data folder.
 */
const RUNNING = Symbol.for('peertube-plugin-livechat.running');
type Running = { owner: LivechatRuntime; stop(): Promise<void> };
const holder = globalThis as unknown as { [RUNNING]?: Map<string, Running> };
const running = (holder[RUNNING] ??= new Map<string, Running>());

export async function register(o: PeerTubeOptions): Promise<void> {
  const dataDir = o.peertubeHelpers.plugin.getDataDirectoryPath();
  const previous = running.get(dataDir);
  if (previous) {
    running.delete(dataDir);
    o.peertubeHelpers.logger.info('livechat: registered again while still running: stopping the previous chat server');
    await previous.stop();
  }
  for (const s of SETTINGS) o.registerSetting(s as never);
  // Routes first: PeerTube keeps serving them from its router, they answer 404 until the server is up.
  mountClientAddress(o.getRouter() as unknown as RouterLike);
  mountRoutes(o.getRouter() as unknown as RouterLike, get);
  mountChannelEditorRoutes(o.getRouter() as unknown as RouterLike, get);
  mountChannelConfigRoutes(o.getRouter() as unknown as RouterLike, get);
  for (const r of webSocketRoutes(get)) o.registerWebSocketRoute(r as never);
  for (const h of [...customFieldHooks(o, get), ...federationHooks(o, get), ...roomNameHooks(get)])
    o.registerHook(h as never);
  o.settingsManager.onSettingsChange(async () => {
    // PeerTube awaits this before answering the admin's save (so the change is live by then); it would log a
    // failure without the stack, so it is logged here.
    try {
      await current?.settingsChanged();
    } catch (err) {
      o.peertubeHelpers.logger.error(`livechat: settings change failed: ${(err as Error)?.stack ?? err}`);
    }
  });
  const rt = await LivechatRuntime.start(o);
  current = rt;
  running.set(dataDir, {
    owner: rt,
    stop: async () => {
      if (current === rt) current = null;
      await rt.stop();
    },
  });
}

export async function unregister(): Promise<void> {
  const rt = current;
  current = null;
  for (const [dir, r] of running) if (r.owner === rt) running.delete(dir);
  await rt?.stop();
}
