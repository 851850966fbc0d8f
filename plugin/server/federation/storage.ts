// livechat's federation files in the plugin data folder, same paths and JSON, so a data folder moves between livechat
// and this plugin both ways:
//   videoInfos/local/<uuid>.json            what we published for a local video (absent: no chat)
//   videoInfos/remote/<host>/<uuid>.json    what a remote instance published for its video (absent: no chat)
//   serverInfos/<domain>/s2s                {"host": main host, "port": "5269"} when the remote accepts direct S2S
//   serverInfos/<domain>/ws-s2s             {"host": main host, "url": "wss://…/xmpp-websocket-s2s"}
//   serverInfos/<domain>/last-update        {"timestamp": ms}
// serverInfos holds one folder per domain of the remote (host, room.host, external.host), since S2S connects to each.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChatServerInfos, PeertubeLiveChatAttribute } from './types.js';
import { sanitizeLiveChatInfos, validHost } from './sanitize.js';

/** The `serverInfos` folder of a plugin data folder (what the S2S layer is configured with). */
export function serverInfosDirOf(dataDir: string): string {
  return join(dataDir, 'serverInfos');
}

/** A video as these functions need it: PeerTube's `video.uuid`, `video.url`, `video.remote`. */
export interface VideoRef { uuid: string; url: string; remote: boolean }

/** Path of a video's stored infos, or `undefined` when its uuid or URL host could escape the folder. */
export function videoInfosPath(dataDir: string, video: VideoRef): string | undefined {
  if (!/^[\w-]+$/.test(video.uuid)) return undefined;
  if (!video.remote) return join(dataDir, 'videoInfos', 'local', `${video.uuid}.json`);
  let host: string | undefined;
  try { host = validHost(new URL(video.url).hostname); } catch { host = undefined; }
  return host ? join(dataDir, 'videoInfos', 'remote', host, `${video.uuid}.json`) : undefined;
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** Writes JSON through a temporary file and a rename, so a reader never sees half a file; skips identical content. */
async function writeJson(file: string, value: unknown): Promise<void> {
  const text = JSON.stringify(value);
  try {
    if (await readFile(file, 'utf8') === text) return;
  } catch { /* absent or unreadable: write it */ }
  await mkdir(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, file);
}

/**
 * Stores a video's chat infos (`false` removes the file: the video has no chat). Throws on an unusable uuid or host
 * rather than writing elsewhere.
 */
export async function storeVideoChatInfos(
  dataDir: string, video: VideoRef, infos: PeertubeLiveChatAttribute,
): Promise<void> {
  const file = videoInfosPath(dataDir, video);
  if (!file) throw new Error(`refusing to store chat infos for video '${video.uuid}' at '${video.url}'`);
  if (infos === false) await rm(file, { force: true });
  else await writeJson(file, infos);
}

/** Reads a video's stored chat infos, sanitised again (older files may predate the current checks); `false` if none. */
export async function readVideoChatInfos(dataDir: string, video: VideoRef): Promise<PeertubeLiveChatAttribute> {
  const file = videoInfosPath(dataDir, video);
  if (!file) return false;
  return sanitizeLiveChatInfos(await readJson(file), video.remote ? video.url : undefined);
}

/**
 * Records how to reach a remote instance's chat server, under each of its domains (host, MUC, external): `s2s` when
 * it accepts direct S2S, `ws-s2s` when it publishes WebSocket S2S (each removed when no longer announced), and
 * `last-update`. Expects sanitised infos (from `sanitizeServerInfos` or `sanitizeLiveChatInfos`).
 */
export async function storeRemoteServerInfos(dataDir: string, infos: ChatServerInfos, now = Date.now()): Promise<void> {
  const mainHost = validHost(infos.host);
  if (!mainHost) throw new Error(`refusing to store server infos for host '${infos.host}'`);
  for (const domain of [infos.host, infos.muc, infos.external]) {
    if (domain === undefined) continue;
    const safe = validHost(domain);
    if (!safe) continue;
    const dir = join(serverInfosDirOf(dataDir), safe);
    if (infos.directs2s?.port) await writeJson(join(dir, 's2s'), { host: mainHost, port: infos.directs2s.port });
    else await rm(join(dir, 's2s'), { force: true });
    if (infos.websockets2s?.url) await writeJson(join(dir, 'ws-s2s'), { host: mainHost, url: infos.websockets2s.url });
    else await rm(join(dir, 'ws-s2s'), { force: true });
    await writeJson(join(dir, 'last-update'), { timestamp: now });
  }
}

/** How to reach a remote domain, as read from `serverInfos/<domain>/`. */
export interface StoredServerInfos {
  /** The remote's main host (what the files name as `host`). */
  host: string;
  /** Direct S2S: connect to `host` on this port. */
  s2s?: { host: string; port: number };
  /** WebSocket S2S endpoint. */
  wsS2S?: { host: string; url: string };
  /** When the infos were last written (ms since epoch), if known. */
  lastUpdate?: number;
}

/**
 * Reads what is known about a remote domain from a `serverInfos` folder (see `serverInfosDirOf`), for the S2S layer:
 * the WebSocket S2S URL and/or the direct S2S port. `undefined` when the domain is unknown or its files are unusable.
 * livechat prefers direct S2S when both are present.
 */
export async function readServerInfos(serverInfosDir: string, domain: string): Promise<StoredServerInfos | undefined> {
  const safe = validHost(domain);
  if (!safe) return undefined;
  const dir = join(serverInfosDir, safe);
  const [s2s, ws, stamp] = await Promise.all(['s2s', 'ws-s2s', 'last-update'].map((f) => readJson(join(dir, f))));
  const out: Partial<StoredServerInfos> = {};
  const rec = (v: unknown) => (typeof v === 'object' && v !== null ? v as Record<string, unknown> : undefined);
  const s = rec(s2s);
  const port = typeof s?.port === 'string' || typeof s?.port === 'number' ? Number(s.port) : NaN;
  const sHost = validHost(s?.host);
  if (sHost && Number.isInteger(port) && port > 0 && port < 65536) out.s2s = { host: sHost, port };
  const w = rec(ws);
  const wHost = validHost(w?.host) ?? safe;
  if (typeof w?.url === 'string' && /^wss?:\/\//.test(w.url)) out.wsS2S = { host: wHost, url: w.url };
  if (!out.s2s && !out.wsS2S) return undefined;
  out.host = out.s2s?.host ?? out.wsS2S!.host;
  const ts = rec(stamp)?.timestamp;
  if (typeof ts === 'number') out.lastUpdate = ts;
  return out as StoredServerInfos;
}

/** Whether a remote instance's infos are known (and, with `maxAgeMs`, were written less than that long ago). */
export async function hasServerInfos(
  dataDir: string, instanceUrl: string, maxAgeMs?: number, now = Date.now(),
): Promise<boolean> {
  let host: string | undefined;
  try { host = validHost(new URL(instanceUrl).hostname); } catch { return false; }
  if (!host) return false;
  const stamp = await readJson(join(serverInfosDirOf(dataDir), host, 'last-update'));
  if (typeof stamp !== 'object' || stamp === null) return false;
  if (maxAgeMs === undefined) return true;
  const ts = (stamp as Record<string, unknown>).timestamp;
  return typeof ts === 'number' && now - ts <= maxAgeMs;
}
