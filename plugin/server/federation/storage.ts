// livechat's federation files in the plugin data folder, same paths and JSON, so a data folder moves between livechat
// and this plugin both ways:
//   videoInfos/local/<uuid>.json            what we published for a local video (absent: no chat)
//   videoInfos/remote/<host>/<uuid>.json    what a remote instance published for its video (absent: no chat)
//   serverInfos/<domain>/s2s                {"host": main host, "port": "5269"} when the remote accepts direct S2S
//   serverInfos/<domain>/ws-s2s             {"host": main host, "url": "wss://…/xmpp-websocket-s2s"}
//   serverInfos/<domain>/last-update        {"timestamp": ms}
// serverInfos holds one folder per domain of the remote (host, room.host, external.host when it announces one), since
// S2S connects to each. Reading it is src/s2s/server-infos.ts's job (S2S and this plugin share that one reader).
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChatServerInfos, PeertubeLiveChatAttribute } from './types.js';
import { sanitizeLiveChatInfos, validHost } from './sanitize.js';
import { serverInfosUpdatedAt } from '../../../src/s2s/server-infos.js';

/** The `serverInfos` folder of a plugin data folder (what the S2S layer is configured with). */
export function serverInfosDirOf(dataDir: string): string {
  return join(dataDir, 'serverInfos');
}

/** A video as these functions need it: PeerTube's `video.uuid`, `video.url`, `video.remote`. */
export interface VideoRef {
  uuid: string;
  url: string;
  remote: boolean;
}

/** Path of a video's stored infos, or `undefined` when its uuid or URL host could escape the folder. */
export function videoInfosPath(dataDir: string, video: VideoRef): string | undefined {
  if (!/^[\w-]+$/.test(video.uuid)) return undefined;
  if (!video.remote) return join(dataDir, 'videoInfos', 'local', `${video.uuid}.json`);
  let host: string | undefined;
  try {
    host = validHost(new URL(video.url).hostname);
  } catch {
    host = undefined;
  }
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
    if ((await readFile(file, 'utf8')) === text) return;
  } catch {
    /* absent or unreadable: write it */
  }
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
  dataDir: string,
  video: VideoRef,
  infos: PeertubeLiveChatAttribute,
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

/** Whether a remote instance's infos are known (and, with `maxAgeMs`, were written less than that long ago). */
export async function hasServerInfos(
  dataDir: string,
  instanceUrl: string,
  maxAgeMs?: number,
  now = Date.now(),
): Promise<boolean> {
  let host: string | undefined;
  try {
    host = validHost(new URL(instanceUrl).hostname);
  } catch {
    return false;
  }
  if (!host) return false;
  const ts = await serverInfosUpdatedAt(serverInfosDirOf(dataDir), host);
  if (ts === undefined) return false;
  if (maxAgeMs === undefined) return true;
  return typeof ts === 'number' && now - ts <= maxAgeMs;
}
