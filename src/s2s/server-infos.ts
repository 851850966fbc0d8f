// Reads peertube-plugin-livechat's `serverInfos` folder, which the PeerTube plugin fills from ActivityPub and from
// remote instances' federation infos: `<dir>/<host>/ws-s2s` is `{"host": main host, "url": WebSocket S2S URL}` and
// `<dir>/<host>/s2s` is `{"host": main host, "port": direct S2S port}` (present only when the remote accepts
// direct S2S). One entry per remote domain (main host, MUC host, external users' host). Read fresh at each new
// outgoing connection: the plugin rewrites these files at any time.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { isWsUrl } from './ws-config.js';

export interface RemoteServerInfo {
  /** Direct S2S over TCP: the remote's main host and port. */
  s2s?: { host: string; port: number };
  /** WebSocket S2S endpoint. */
  wsUrl?: string;
}

const SAFE_HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?$/i;

export async function readServerInfo(dir: string, host: string, log: Logger): Promise<RemoteServerInfo> {
  if (!SAFE_HOST.test(host) || host.includes('..')) return {};
  const info: RemoteServerInfo = {};
  const s2s = await readJson(join(dir, host, 's2s'), log);
  if (s2s) {
    const port = Number(s2s.port);
    const main = typeof s2s.host === 'string' && SAFE_HOST.test(s2s.host) ? s2s.host : host;
    if (Number.isInteger(port) && port > 0 && port < 65536) info.s2s = { host: main, port };
    else log.warn(`s2s: ${join(dir, host, 's2s')}: no valid port`);
  }
  const ws = await readJson(join(dir, host, 'ws-s2s'), log);
  if (ws) {
    if (typeof ws.url === 'string' && isWsUrl(ws.url)) info.wsUrl = ws.url;
    else log.warn(`s2s: ${join(dir, host, 'ws-s2s')}: no valid ws:// or wss:// url`);
  }
  return info;
}

async function readJson(file: string, log: Logger): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null; // no such entry: the usual case
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch { /* reported below */ }
  log.warn(`s2s: ${file} is not a JSON object, ignored`);
  return null;
}
