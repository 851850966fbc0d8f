// The one reader of peertube-plugin-livechat's `serverInfos` folder, which the PeerTube plugin fills from
// ActivityPub and from remote instances' federation infos (plugin/server/federation writes it), and which S2S reads
// to find how to reach a remote domain. One folder per remote domain (main host, MUC host, external users' host):
//   <dir>/<domain>/ws-s2s       {"host": main host, "url": WebSocket S2S URL}
//   <dir>/<domain>/s2s          {"host": main host, "port": direct S2S port}, only when the remote accepts direct S2S
//   <dir>/<domain>/last-update  {"timestamp": ms}
// Read fresh at each new outgoing connection: the plugin rewrites these files at any time.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { isWsUrl } from './ws-config.js';

/** How to reach a remote domain, as read from `serverInfos/<domain>/`. */
export interface StoredServerInfos {
  /** The remote's main host (what the files name as `host`). */
  host: string;
  /** Direct S2S: connect to `host` on this port. livechat prefers it when both are known. */
  s2s?: { host: string; port: number };
  /** WebSocket S2S endpoint. */
  wsS2S?: { host: string; url: string };
  /** When the infos were last written (ms since epoch), if known. */
  lastUpdate?: number;
}

const SAFE_HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/;

/** A domain usable as a folder name (no path tricks), lower-cased; undefined otherwise. */
export function safeServerInfosHost(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const h = value.toLowerCase();
  return SAFE_HOST.test(h) && !h.includes('..') ? h : undefined;
}

async function readJson(file: string, log?: Logger): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined; // no such entry: the usual case
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  log?.warn(`s2s: ${file} is not a JSON object, ignored`);
  return undefined;
}

/**
 * What is known about a remote domain: its direct S2S port and/or WebSocket S2S URL. Undefined when the domain is
 * unknown, unsafe as a folder name, or its files give neither.
 */
export async function readServerInfos(
  dir: string,
  domain: string,
  log?: Logger,
): Promise<StoredServerInfos | undefined> {
  const safe = safeServerInfosHost(domain);
  if (!safe) return undefined;
  const at = join(dir, safe);
  const [s2s, ws, stamp] = await Promise.all(['s2s', 'ws-s2s', 'last-update'].map((f) => readJson(join(at, f), log)));
  const out: Partial<StoredServerInfos> = {};
  if (s2s) {
    const port = typeof s2s.port === 'string' || typeof s2s.port === 'number' ? Number(s2s.port) : NaN;
    const host = safeServerInfosHost(s2s.host);
    if (host && Number.isInteger(port) && port > 0 && port < 65536) out.s2s = { host, port };
    else log?.warn(`s2s: ${join(at, 's2s')}: no valid host and port`);
  }
  if (ws) {
    if (typeof ws.url === 'string' && isWsUrl(ws.url))
      out.wsS2S = { host: safeServerInfosHost(ws.host) ?? safe, url: ws.url };
    else log?.warn(`s2s: ${join(at, 'ws-s2s')}: no valid ws:// or wss:// url`);
  }
  if (!out.s2s && !out.wsS2S) return undefined;
  out.host = out.s2s?.host ?? out.wsS2S!.host;
  if (typeof stamp?.timestamp === 'number') out.lastUpdate = stamp.timestamp;
  return out as StoredServerInfos;
}

/** When a domain's infos were last written: the timestamp, null when the file has none, undefined when absent. */
export async function serverInfosUpdatedAt(dir: string, domain: string): Promise<number | null | undefined> {
  const safe = safeServerInfosHost(domain);
  if (!safe) return undefined;
  const stamp = await readJson(join(dir, safe, 'last-update'));
  if (!stamp) return undefined;
  return typeof stamp.timestamp === 'number' ? stamp.timestamp : null;
}
