// Validation of chat infos coming from other instances (ActivityPub objects, `api/federation_server_infos`, files
// written by older versions): anything not well-formed is dropped, and every host and URL must belong to the instance
// that sent it, so one instance cannot redirect another's chat.
import type { ChatServerInfos, PeertubeLiveChatAttribute, PeertubeLiveChatInfos } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The host of the instance a piece of data comes from; `undefined` when the URL is unusable or a bare TLD. */
export function referenceHostOf(url: string): string | undefined {
  try {
    const host = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`).hostname;
    return host.includes('.') ? host : undefined;
  } catch {
    return undefined;
  }
}

/** A domain name accepted as is or one label below `ref` (`room.<ref>`, `anon.<ref>`), normalised to lower case. */
export function validHost(value: unknown, ref?: string): string | undefined {
  if (typeof value !== 'string' || value === '' || /[/\\@?#:\s]/.test(value) || value.includes('..')) return undefined;
  let host: string;
  try {
    host = new URL(`http://${value}`).hostname;
  } catch {
    return undefined;
  }
  if (!host || host.startsWith('[')) return undefined;
  if (ref !== undefined && host !== ref) {
    const dot = host.indexOf('.');
    if (dot < 0 || host.slice(dot + 1) !== ref) return undefined;
  }
  return host;
}

function validUrl(value: unknown, kind: 'http' | 'ws', ref?: string): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return undefined;
  }
  if (u.protocol !== `${kind}:` && u.protocol !== `${kind}s:`) return undefined;
  if (u.search !== '') return undefined;
  if (ref !== undefined && u.hostname !== ref) return undefined;
  return value;
}

/**
 * Sanitises an `xmppserver` object. With `referenceUrl` (the video URL or the instance URL it was fetched from), its
 * hosts must be that host or one label below it and its URLs must point to that host. `undefined` when unusable.
 */
export function sanitizeServerInfos(value: unknown, referenceUrl?: string): ChatServerInfos | undefined {
  if (!isObj(value)) return undefined;
  const ref = referenceUrl === undefined ? undefined : referenceHostOf(referenceUrl);
  if (referenceUrl !== undefined && ref === undefined) return undefined;
  const host = validHost(value.host, ref);
  const muc = validHost(value.muc, ref);
  if (!host || !muc) return undefined;
  const out: ChatServerInfos = { host, muc };
  const external = validHost(value.external, ref);
  if (external) out.external = external;
  if (isObj(value.directs2s) && typeof value.directs2s.port === 'string' && /^\d{1,5}$/.test(value.directs2s.port)) {
    out.directs2s = { port: value.directs2s.port };
  }
  const ws2s = isObj(value.websockets2s) ? validUrl(value.websockets2s.url, 'ws', ref) : undefined;
  if (ws2s) out.websockets2s = { url: ws2s };
  if (isObj(value.anonymous)) {
    const virtualhost = validHost(value.anonymous.virtualhost, ref);
    if (virtualhost) {
      out.anonymous = { virtualhost };
      const bosh = validUrl(value.anonymous.bosh, 'http', ref);
      if (bosh) out.anonymous.bosh = bosh;
      const websocket = validUrl(value.anonymous.websocket, 'ws', ref);
      if (websocket) out.anonymous.websocket = websocket;
    }
  }
  return out;
}

/**
 * Sanitises a `peertubeLiveChat` attribute into the current format (type, jid, xmppserver, customEmojisUrl),
 * migrating livechat's first format (jid + anonymous links, no `xmppserver`). `false` when there is no usable chat.
 */
export function sanitizeLiveChatInfos(value: unknown, referenceUrl?: string): PeertubeLiveChatAttribute {
  if (!isObj(value) || value.type !== 'xmpp' || typeof value.jid !== 'string') return false;
  const ref = referenceUrl === undefined ? undefined : referenceHostOf(referenceUrl);
  if (referenceUrl !== undefined && ref === undefined) return false;
  const at = value.jid.indexOf('@');
  const jidDomain = validHost(at > 0 ? value.jid.slice(at + 1) : undefined, ref);
  if (!jidDomain) return false;
  const jid = `${value.jid.slice(0, at)}@${jidDomain}`;

  if (!('xmppserver' in value)) return migrateFirstFormat(value, jid, jidDomain, ref);
  const xmppserver = sanitizeServerInfos(value.xmppserver, referenceUrl);
  if (!xmppserver) return false;
  const out: PeertubeLiveChatInfos = { type: 'xmpp', jid, xmppserver };
  const emojis = validUrl(value.customEmojisUrl, 'http', ref);
  if (emojis) out.customEmojisUrl = emojis;
  return out;
}

function migrateFirstFormat(value: Obj, jid: string, muc: string, ref?: string): PeertubeLiveChatAttribute {
  if (!Array.isArray(value.links) || !muc.startsWith('room.')) return false;
  const host = validHost(muc.slice('room.'.length), ref);
  if (!host) return false;
  const out: PeertubeLiveChatInfos = { type: 'xmpp', jid, xmppserver: { host, muc } };
  for (const link of value.links) {
    if (!isObj(link)) continue;
    const virtualhost = validHost(link.jid, ref);
    if (!virtualhost) continue;
    const kind =
      link.type === 'xmpp-bosh-anonymous' ? 'bosh' : link.type === 'xmpp-websocket-anonymous' ? 'websocket' : undefined;
    if (!kind) continue;
    const url = validUrl(link.url, kind === 'bosh' ? 'http' : 'ws', ref);
    if (!url) continue;
    out.xmppserver.anonymous ??= { virtualhost };
    out.xmppserver.anonymous[kind] = url;
  }
  return out;
}
