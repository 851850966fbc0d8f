// Incoming federation data: remote Video objects and remote instances' `api/federation_server_infos`.
import type { PeertubeLiveChatAttribute } from './types.js';
import { sanitizeLiveChatInfos, sanitizeServerInfos } from './sanitize.js';
import { hasServerInfos, storeRemoteServerInfos, storeVideoChatInfos, type VideoRef } from './storage.js';
import { federationServerInfosUrl } from './urls.js';

/**
 * For `action:activity-pub.remote-video.created` and `…updated` (payload `{ video, videoAPObject }`). Sanitises the
 * object's `peertubeLiveChat` against the video's own URL, stores it under `videoInfos/remote/<host>/<uuid>.json`
 * (removing it when the video has no chat any more) and records the remote chat server under `serverInfos/`.
 * Returns what was stored.
 */
export async function readIncomingVideo(
  dataDir: string,
  params: { video: VideoRef; videoAPObject: unknown },
): Promise<PeertubeLiveChatAttribute> {
  const ap = params.videoAPObject;
  const raw =
    typeof ap === 'object' && ap !== null && 'peertubeLiveChat' in ap
      ? (ap as { peertubeLiveChat: unknown }).peertubeLiveChat
      : false;
  const infos = sanitizeLiveChatInfos(raw, params.video.url);
  await storeVideoChatInfos(dataDir, params.video, infos);
  if (params.video.remote && infos !== false) await storeRemoteServerInfos(dataDir, infos.xmppserver);
  return infos;
}

/**
 * Stores a body fetched from a remote `api/federation_server_infos`, sanitised against the instance URL it was
 * fetched from. Returns false when the body is unusable (nothing stored).
 */
export async function storeFetchedServerInfos(
  dataDir: string,
  body: unknown,
  instanceUrl: string,
  now = Date.now(),
): Promise<boolean> {
  const infos = sanitizeServerInfos(body, instanceUrl);
  if (!infos) return false;
  await storeRemoteServerInfos(dataDir, infos, now);
  return true;
}

export interface FetchServerInfosOptions {
  /** Plugin short name the remote is assumed to run under (the same as ours). */
  pluginShortName: string;
  /** Infos younger than this are not fetched again; livechat uses 24 h. */
  maxAgeMs?: number;
  timeoutMs?: number;
  /** HTTP client; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/**
 * When a remote opens WebSocket S2S with the `peertube-livechat-ws-s2s-instance-url` header, the dialback
 * back-connection needs that instance's infos, which ActivityPub may never have brought: fetch them from its
 * `api/federation_server_infos` unless fresh ones are stored. Returns whether usable infos are stored afterwards;
 * network and format failures yield false (the caller logs, the stream goes on and dialback fails normally).
 */
export async function fetchMissingServerInfos(
  dataDir: string,
  instanceUrl: string,
  opts: FetchServerInfosOptions,
): Promise<boolean> {
  const maxAge = opts.maxAgeMs ?? 24 * 3600_000;
  if (await hasServerInfos(dataDir, instanceUrl, maxAge)) return true;
  let url: string;
  try {
    url = federationServerInfosUrl(instanceUrl, opts.pluginShortName);
  } catch {
    return false;
  }
  const doFetch = opts.fetch ?? fetch;
  try {
    const res = await doFetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
    if (!res.ok) return false;
    return await storeFetchedServerInfos(dataDir, await res.json(), instanceUrl);
  } catch {
    return false;
  }
}
