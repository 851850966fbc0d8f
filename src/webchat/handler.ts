// HTTP routes of the web chat page, as one request handler that any node:http server (our standalone
// server, or the PeerTube plugin's router) can mount:
//   <base>/room/<room>       the page (no-cache, strict CSP), options in the query string
//   <base>/assets/<name>     ConverseJS and our boot files, immutable, br/gzip, ETag + 304
//   <base>/                  redirect to the default room, when there is one
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { AssetStore } from './assets.js';
import { buildConverseSettings } from './converse-settings.js';
import { buildCsp } from './csp.js';
import { compress, negotiateEncoding } from './encoding.js';
import { etagFor, ifNoneMatchHits, sendBody, sendText } from './http-util.js';
import { renderPage } from './page.js';
import { isValidRoomKey, parsePageOptions, type PageOptions } from './page-options.js';
import { whenIdle } from '../loop-idleness.js';

type PerRequest<T> = T | ((req: IncomingMessage) => T);

export interface WebchatOptions {
  /** URL path prefix without trailing slash: '/webchat', or the plugin router's prefix. */
  basePath: string;
  /**
   * The prefix the browser sees, when it differs from what `req.url` carries: an Express router hands its
   * handlers `req.url` without the mount path (PeerTube: basePath '/webchat', publicBasePath
   * '/plugins/livechat/router/webchat'). Default: basePath.
   */
  publicBasePath?: string;
  /** XMPP WebSocket endpoint; a path ('/xmpp-websocket') is resolved against the page's own host. */
  websocketUrl?: PerRequest<string | undefined>;
  /** BOSH endpoint, used when WebSocket fails. */
  boshUrl?: PerRequest<string | undefined>;
  /**
   * Same-origin URL answering `{ jid, password, nickname }` for a logged-in user (PeerTube's `api/auth`): the page
   * asks it with the PeerTube session token the browser holds and logs in under that account instead of anonymously.
   */
  authUrl?: string;
  /** Host that offers SASL ANONYMOUS, e.g. 'anon.localhost'. */
  anonymousHost: string;
  /**
   * Where avatars are served by hash (`<avatarsUrl>/<sha1>.png`): the page then shows occupants' avatars from
   * their presence hash, without one vCard request per occupant. Unset: ConverseJS's own vCard fetching.
   */
  avatarsUrl?: string;
  /** MUC service host, e.g. 'room.localhost'. */
  mucHost: string;
  /** `<base>/` redirects here (the standalone demo room). */
  defaultRoom?: string;
  /**
   * Maps a room key from the URL to a room JID, or null for 404. Default: `<key>@<mucHost>`.
   * The plugin uses it to map a video UUID or `channel.<id>` according to its room-type setting.
   */
  resolveRoom?: (
    roomKey: string,
    ctx: { options: PageOptions; req: IncomingMessage },
  ) => string | null | Promise<string | null>;
  /** CSP frame-ancestors; default '*' because PeerTube embeds the page in an iframe on its own pages. */
  frameAncestors?: string;
  /** Messages kept on screen; default 100 (as livechat). */
  pruneMessagesAbove?: number;
  /** ConverseJS log level in the browser; default 'warn'. */
  clientLogLevel?: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  /** Temporary ban durations (seconds) offered in an occupant's menu; default 10 min, 1 h, 24 h. */
  tempBanDurations?: number[];
  /** Page title; default: the room key. */
  title?: (roomKey: string) => string;
  logger?: Logger;
  /** Share one asset store between handlers (it holds compressed bodies); built on first use otherwise. */
  assets?: AssetStore | Promise<AssetStore>;
  /**
   * Folder where the large assets' compressed bodies are kept across restarts (`webchatCacheDir(dataDir)`): a restart
   * then compresses nothing. Unset: compressed at every start. Not used with `assets` (that store has its own). A
   * folder of its own: other files in it are deleted.
   */
  cacheDir?: string;
  /** Compress the main files ahead of the first page load (see warmAfterMs). Default true. */
  warm?: boolean;
  /**
   * How long after start the ahead-of-time compression may begin, in ms (default WARM_AFTER_MS); it then waits for
   * a second in which the server was idle (src/loop-idleness.ts). Brotli 11 of converse.min.js is ~2 s of a core:
   * not in the first seconds, when a restarted server takes back its viewers, nor in a join storm, and never for a
   * server stopped sooner (tests start hundreds). A page asked for earlier compresses what it needs then.
   */
  warmAfterMs?: number;
}

/** The default of WebchatOptions.warmAfterMs. */
export const WARM_AFTER_MS = 15_000;

export interface WebchatHandler {
  (req: IncomingMessage, res: ServerResponse): boolean;
  /** Resolves when the asset index is built (rejects if converse.js is missing). */
  readonly ready: Promise<AssetStore>;
  /** URL path of a room's page, for logs and READMEs. */
  roomPath(roomKey: string): string;
  /** Cancels the ahead-of-time compression if it has not finished (the server is stopping). */
  close(): void;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

function pick<T>(v: PerRequest<T>, req: IncomingMessage): T {
  return typeof v === 'function' ? (v as (r: IncomingMessage) => T)(req) : v;
}

export function createWebchatHandler(opts: WebchatOptions): WebchatHandler {
  const base = opts.basePath.replace(/\/+$/, '');
  if (base !== '' && !base.startsWith('/')) throw new Error(`webchat: basePath must start with '/': ${opts.basePath}`);
  if (opts.defaultRoom !== undefined && !isValidRoomKey(opts.defaultRoom)) {
    throw new Error(`webchat: defaultRoom is not a valid room name: ${opts.defaultRoom}`);
  }
  const publicBase = (opts.publicBasePath ?? base).replace(/\/+$/, '');
  const roomPrefix = `${base}/room/`;
  const assetPrefix = `${base}/assets/`;
  const publicRoomPrefix = `${publicBase}/room/`;
  const publicAssetPrefix = `${publicBase}/assets/`;
  const prune = opts.pruneMessagesAbove ?? 100;
  const log = opts.logger;

  const warming = new AbortController();
  let cancelWarm: (() => void) | undefined;
  const assets = opts.assets ?? AssetStore.load({ cacheDir: opts.cacheDir });
  const ready: Promise<AssetStore> = Promise.resolve(assets).then((store) => {
    store.onFallback = (why) => log?.warn(`webchat: compressed an asset in process (${why})`);
    store.onDiskFailure = (why) => log?.warn(`webchat: ${why}`);
    if (opts.warm !== false && !warming.signal.aborted) {
      // Not in the middle of a storm either: spawning the compression child alone holds the main thread ~15–30 ms.
      cancelWarm = whenIdle(
        () => {
          store
            .warm(undefined, warming.signal)
            .catch((e: unknown) => log?.warn(`webchat: precompression failed: ${String(e)}`));
        },
        { afterMs: opts.warmAfterMs ?? WARM_AFTER_MS },
      );
    }
    return store;
  });
  // Failure is reported per request (500) and once in the log; keep it from being an unhandled rejection.
  ready.catch((e: unknown) => log?.error(`webchat: cannot load ConverseJS assets: ${String(e)}`));

  const fail = (res: ServerResponse, e: unknown) => {
    log?.warn(`webchat: request failed: ${String(e)}`);
    sendText(res, 500, 'Internal error');
  };

  async function serveAsset(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const store = await ready;
    const asset = store.get(name);
    if (!asset) return sendText(res, 404, 'Not found');
    const enc = asset.compressible ? negotiateEncoding(req.headers['accept-encoding']) : 'identity';
    const etag = etagFor(asset.etag, enc);
    const headers: Record<string, string> = {
      'Cache-Control': IMMUTABLE,
      ETag: etag,
      'X-Content-Type-Options': 'nosniff',
      'Cross-Origin-Resource-Policy': 'same-origin',
    };
    if (asset.compressible) headers.Vary = 'Accept-Encoding';
    if (ifNoneMatchHits(req, asset.etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const body = await store.bodyNow(asset, enc);
    headers['Content-Type'] = asset.type;
    if (enc !== 'identity') headers['Content-Encoding'] = enc;
    sendBody(req, res, 200, headers, body);
  }

  async function servePage(
    req: IncomingMessage,
    res: ServerResponse,
    roomKey: string,
    search: URLSearchParams,
  ): Promise<void> {
    const options = parsePageOptions(search);
    const roomJid = opts.resolveRoom ? await opts.resolveRoom(roomKey, { options, req }) : `${roomKey}@${opts.mucHost}`;
    if (!roomJid) return sendText(res, 404, 'No such chat room');
    const store = await ready;
    const websocketUrl = opts.websocketUrl === undefined ? undefined : pick(opts.websocketUrl, req);
    const boshUrl = opts.boshUrl === undefined ? undefined : pick(opts.boshUrl, req);
    if (!websocketUrl && !boshUrl) return sendText(res, 503, 'Chat transport not configured');
    const assetsBase = publicAssetPrefix;
    const settings = buildConverseSettings({
      assetsPath: assetsBase + store.urls.converseDir,
      anonymousHost: opts.anonymousHost,
      roomJid,
      websocketUrl,
      boshUrl,
      options,
      pruneMessagesAbove: prune,
      loglevel: opts.clientLogLevel ?? 'warn',
    });
    const html = Buffer.from(
      renderPage({
        title: opts.title?.(roomKey) ?? roomKey,
        assetsBase,
        assets: store.urls,
        settings,
        options,
        avatarsUrl: opts.avatarsUrl,
        authUrl: opts.authUrl,
        banDurations: opts.tempBanDurations,
      }),
      'utf8',
    );
    const etag = `"p-${createHash('sha256').update(html).digest('base64url').slice(0, 16)}"`;
    const enc = negotiateEncoding(req.headers['accept-encoding']);
    const headers: Record<string, string> = {
      // Always revalidated: the page names the current asset version and the room's settings.
      'Cache-Control': 'no-cache',
      ETag: etagFor(etag, enc),
      Vary: 'Accept-Encoding',
      'Content-Security-Policy': buildCsp({
        connectUrls: [websocketUrl, boshUrl, opts.avatarsUrl].filter((u): u is string => !!u),
        frameAncestors: opts.frameAncestors ?? '*',
      }),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
    };
    if (ifNoneMatchHits(req, etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers['Content-Type'] = 'text/html; charset=utf-8';
    let body: Buffer = html;
    if (enc !== 'identity') {
      body = await compress(html, enc, 'fast');
      headers['Content-Encoding'] = enc;
    }
    sendBody(req, res, 200, headers, body);
  }

  const handler = ((req: IncomingMessage, res: ServerResponse): boolean => {
    const rawUrl = req.url ?? '/';
    const qIndex = rawUrl.indexOf('?');
    const path = qIndex < 0 ? rawUrl : rawUrl.slice(0, qIndex);
    const isBase = path === base || path === `${base}/`;
    if (!isBase && !path.startsWith(roomPrefix) && !path.startsWith(assetPrefix)) return false;
    if (isBase && opts.defaultRoom === undefined) return false;

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
      return true;
    }
    if (isBase) {
      res.writeHead(302, {
        Location: publicRoomPrefix + encodeURIComponent(opts.defaultRoom!),
        'Cache-Control': 'no-cache',
        'Content-Length': '0',
      });
      res.end();
      return true;
    }
    if (path.startsWith(assetPrefix)) {
      serveAsset(req, res, path.slice(assetPrefix.length)).catch((e: unknown) => fail(res, e));
      return true;
    }
    let roomKey: string;
    try {
      roomKey = decodeURIComponent(path.slice(roomPrefix.length).replace(/\/$/, ''));
    } catch {
      sendText(res, 400, 'Bad room name');
      return true;
    }
    if (!isValidRoomKey(roomKey)) {
      sendText(res, 404, 'No such chat room');
      return true;
    }
    const search = new URLSearchParams(qIndex < 0 ? '' : rawUrl.slice(qIndex + 1));
    servePage(req, res, roomKey, search).catch((e: unknown) => fail(res, e));
    return true;
  }) as WebchatHandler;

  Object.defineProperty(handler, 'ready', { value: ready });
  handler.roomPath = (roomKey: string) => publicRoomPrefix + encodeURIComponent(roomKey);
  handler.close = () => {
    cancelWarm?.();
    warming.abort();
  };
  return handler;
}
