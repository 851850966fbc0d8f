// The `s2s` config section: server-to-server over TCP (RFC 6120 streams, XEP-0220 dialback, SASL EXTERNAL).
import { defaultWsS2sConfig, validateWsS2s, type WsS2sConfig } from './ws-config.js';
import { ConfigError, asObject, bool, int, onlyKeys, optStr, strList, type Raw } from '../config-schema.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface S2sConfig {
  /** S2S over TCP (the listener on `port`, and outgoing TCP streams). */
  enabled: boolean;
  /** S2S over WebSocket (XEP-0468); works with or without TCP. */
  websocket: WsS2sConfig;
  /** Listen addresses, livechat style: "*" = every IPv4 interface, "::" = every IPv6 interface. */
  interfaces: string[];
  port: number;
  /** XEP-0368: also accept TLS from the first byte on a second port (announce it with _xmpps-server._tcp). */
  directTls: boolean;
  directTlsPort: number;
  /** DNS servers for SRV/A/AAAA lookups ("HOST:PORT" or "HOST"); empty: the system's. */
  dnsServers: string[];
  /** Domain → where to connect, bypassing DNS (private deployments, tests). */
  staticRoutes: Record<string, HostPort>;
  /** Like Prosody's s2s_secure_auth: peers must present a certificate valid for their domain; no dialback-only trust. */
  secureAuth: boolean;
  /** Refuse unencrypted streams in both directions (Prosody's s2s_require_encryption). */
  requireEncryption: boolean;
  /** PEM files of extra certificate authorities trusted for peers (besides the system's roots). */
  trustedCaFiles: string[];
  /** Shared secret for dialback keys; unset: generated once and kept in `<dataDir>/s2s/dialback-secret`. */
  dialbackSecret?: string;
  /** Streams silent for this long are closed (both directions), in seconds. */
  idleTimeoutSeconds: number;
  /** Time allowed to resolve, connect and authenticate an outgoing stream, in seconds. */
  connectTimeoutSeconds: number;
  /** Stanzas waiting for one outgoing stream; beyond this they are bounced. */
  maxQueuedStanzas: number;
  /** Incoming S2S connections at once; more are refused. */
  maxIncomingStreams: number;
}

export function defaultS2sConfig(): S2sConfig {
  return {
    enabled: false,
    websocket: defaultWsS2sConfig(),
    interfaces: ['0.0.0.0', '::'],
    port: 5269,
    directTls: false,
    directTlsPort: 5270,
    dnsServers: [],
    staticRoutes: {},
    secureAuth: false,
    requireEncryption: false,
    trustedCaFiles: [],
    idleTimeoutSeconds: 300,
    connectTimeoutSeconds: 20,
    maxQueuedStanzas: 20000,
    maxIncomingStreams: 500,
  };
}

const KEYS = [
  'enabled',
  'interfaces',
  'port',
  'directTls',
  'directTlsPort',
  'dnsServers',
  'dns',
  'staticRoutes',
  'secureAuth',
  'requireEncryption',
  'trustedCaFiles',
  'dialbackSecret',
  'idleTimeoutSeconds',
  'connectTimeoutSeconds',
  'maxQueuedStanzas',
  'maxIncomingStreams',
  'websocket',
];

/** Parses "host:port", "[v6]:port", or a bare host (then `defPort`). Returns null when malformed. */
export function parseHostPort(s: string, defPort: number): HostPort | null {
  const t = s.trim();
  let host: string;
  let port = defPort;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (v6) {
    host = v6[1];
    if (v6[2]) port = Number(v6[2]);
  } else if ((t.match(/:/g) ?? []).length === 1) {
    const i = t.indexOf(':');
    host = t.slice(0, i);
    if (!/^\d+$/.test(t.slice(i + 1))) return null;
    port = Number(t.slice(i + 1));
  } else host = t; // a bare IPv4/name, or a bare IPv6 address without port
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host, port };
}

export function validateS2s(raw: unknown, path: string): S2sConfig {
  const o = asObject(raw, path);
  onlyKeys(o, KEYS, path);
  const d = defaultS2sConfig();
  const interfaces = strList(o, 'interfaces', d.interfaces, path).map((i) => (i === '*' ? '0.0.0.0' : i));
  if (interfaces.length === 0) throw new ConfigError(`${path}.interfaces`, 'needs at least one address');
  // `dns` is the CLI's single-value spelling (--dns HOST:PORT), merged into the list.
  const dnsList = [...strList(o, 'dnsServers', [], path), ...strList(o, 'dns', [], path)];
  for (const s of dnsList) {
    const hp = parseHostPort(s, 53);
    if (!hp || !/^[0-9.]+$|:/.test(hp.host))
      throw new ConfigError(
        `${path}.dnsServers`,
        `"${s}" is not an IP address with optional port (like 127.0.0.1:5353 or [::1]:53)`,
      );
  }
  const routesRaw = asObject(o.staticRoutes, `${path}.staticRoutes`) as Raw;
  const staticRoutes: Record<string, HostPort> = {};
  for (const [domain, v] of Object.entries(routesRaw)) {
    const hp = typeof v === 'string' ? parseHostPort(v, 5269) : null;
    if (!hp) throw new ConfigError(`${path}.staticRoutes.${domain}`, `expected "host:port", got ${JSON.stringify(v)}`);
    staticRoutes[domain.toLowerCase()] = hp;
  }
  const dialbackSecret = optStr(o, 'dialbackSecret', path);
  if (dialbackSecret !== undefined && dialbackSecret.length < 16)
    throw new ConfigError(`${path}.dialbackSecret`, 'must be at least 16 characters');
  return {
    enabled: bool(o, 'enabled', o.port !== undefined ? true : d.enabled, path),
    websocket: validateWsS2s(o.websocket, `${path}.websocket`),
    interfaces,
    port: int(o, 'port', d.port, path, 0, 65535),
    directTls: bool(o, 'directTls', d.directTls, path),
    directTlsPort: int(o, 'directTlsPort', d.directTlsPort, path, 0, 65535),
    dnsServers: dnsList.map((s) => {
      const hp = parseHostPort(s, 53)!;
      return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
    }),
    staticRoutes,
    secureAuth: bool(o, 'secureAuth', d.secureAuth, path),
    requireEncryption: bool(o, 'requireEncryption', d.requireEncryption, path),
    trustedCaFiles: strList(o, 'trustedCaFiles', [], path),
    ...(dialbackSecret !== undefined ? { dialbackSecret } : {}),
    idleTimeoutSeconds: int(o, 'idleTimeoutSeconds', d.idleTimeoutSeconds, path, 5, 86400),
    connectTimeoutSeconds: int(o, 'connectTimeoutSeconds', d.connectTimeoutSeconds, path, 1, 600),
    maxQueuedStanzas: int(o, 'maxQueuedStanzas', d.maxQueuedStanzas, path, 1, 1_000_000),
    maxIncomingStreams: int(o, 'maxIncomingStreams', d.maxIncomingStreams, path, 1, 100_000),
  };
}
