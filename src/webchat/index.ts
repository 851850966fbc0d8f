// Public surface of the web chat module, and the glue from the server config to handler options.
import type { Logger } from '../log.js';
import type { WebchatConfig } from './config.js';
import type { WebchatOptions } from './handler.js';

export { createWebchatHandler, type WebchatHandler, type WebchatOptions } from './handler.js';
export { validateWebchat, type WebchatConfig } from './config.js';
export { AssetStore } from './assets.js';
export { webchatCacheDir } from './body-cache.js';
export { parsePageOptions, type PageOptions } from './page-options.js';

/** The parts of the server config the standalone page needs. */
export interface WebchatServerInfo {
  anonymousHost: string;
  mucHost: string;
  http: { websocketPath: string; boshPath: string };
  /** URL path of avatars by hash, when the avatars module serves them. */
  avatarsPath?: string;
  /** Where the large assets' compressed bodies are kept across restarts (below the data folder). */
  cacheDir?: string;
}

/**
 * Handler options for the standalone server: WebSocket and BOSH on the same origin as the page (relative
 * paths, so the page works behind any reverse proxy), and `<basePath>/` pointing at the demo room.
 */
export function webchatOptions(
  cfg: WebchatConfig,
  server: WebchatServerInfo,
  demoRoom: string | null,
  logger?: Logger,
): WebchatOptions {
  const defaultRoom = cfg.defaultRoom === undefined ? (demoRoom ?? undefined) : (cfg.defaultRoom ?? undefined);
  return {
    basePath: cfg.basePath,
    websocketUrl: server.http.websocketPath,
    boshUrl: server.http.boshPath,
    anonymousHost: server.anonymousHost,
    avatarsUrl: server.avatarsPath,
    mucHost: server.mucHost,
    defaultRoom,
    frameAncestors: cfg.frameAncestors,
    pruneMessagesAbove: cfg.pruneMessagesAbove,
    clientLogLevel: cfg.clientLogLevel,
    tempBanDurations: cfg.tempBanDurations,
    cacheDir: server.cacheDir,
    logger,
  };
}
