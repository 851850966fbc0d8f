// The server's typed configuration: defaults for a working standalone chat on loopback, and validation that
// names the field and what is wrong.
import { resolve } from 'node:path';
import type { LogFormat, LogLevel } from './log.js';
import { checkProxyEntry } from './http/client-address.js';
import { ConfigError, asObject, bool, int, onlyKeys, oneOf, optStr, str, strList, type Raw } from './config-schema.js';

export { ConfigError };

/**
 * The write budget when none is given (c2s.coalesceWritesPerSecond's default, and the coalescer's): writes then
 * cost ~15–25% of a core before the window widens, so a room that is merely busy keeps its low latency.
 */
export const DEFAULT_WRITES_PER_SECOND = 25_000;

export interface HttpConfig {
  /** Listen for HTTP in the standalone server (false when mounted in another server, e.g. PeerTube). */
  listen: boolean;
  host: string;
  port: number;
  websocketPath: string;
  boshPath: string;
  /** Treat WebSocket/BOSH as encrypted (they sit behind an HTTPS proxy in production), so PLAIN is offered. */
  considerSecure: boolean;
  /** Where operators scrape OpenMetrics figures (sessions, occupants, stanzas, fan-out); empty: not served. */
  metricsPath: string;
  /**
   * Reverse proxies whose X-Forwarded-For is believed (addresses, CIDR ranges, `loopback`, `linklocal`,
   * `uniquelocal`): WebSocket and BOSH clients behind them get their own address for per-IP limits and bans.
   */
  trustedProxies: string[];
}

export interface LimitsConfig {
  /** Largest stanza in bytes; bigger ones end the stream with policy-violation. */
  maxStanzaSize: number;
  /** Silence after which the server sends an XMPP ping, in seconds. */
  pingAfterSeconds: number;
  /** Silence after which a connection is closed, in seconds. */
  idleTimeoutSeconds: number;
  /** Bytes waiting to be written to one client before it is dropped as too slow. */
  maxSendBufferBytes: number;
  /** Bytes waiting to be written to all clients together; past it the clients with the most waiting are dropped. */
  maxTotalSendBufferBytes: number;
  /** Seconds before an unauthenticated connection is closed. */
  authTimeoutSeconds: number;
  /** Stanzas a second one connection may send on average; above it stanzas get resource-constraint errors. */
  stanzasPerSecond: number;
  /** Stanzas one connection may send at once; as many refusals in a row end its stream (policy-violation). */
  stanzaBurst: number;
  /** New connections a second from one address on average; above it they get policy-violation. */
  connectionsPerSecondPerIp: number;
  /** New connections one address may open at once (a whole audience behind one NAT joining together). */
  connectionBurstPerIp: number;
  /** Addresses subject to neither rate (a local reverse proxy, benchmarks). */
  rateLimitExempt: string[];
  /**
   * Connections the standalone HTTP listener (WebSocket, BOSH) may take per turn of the event loop; Node takes one,
   * which under load leaves a storm's last arrivals waiting in the kernel's queue (src/http/accept-handles.ts).
   */
  acceptsPerLoopTurn: number;
}

export interface WebSocketConfig {
  /**
   * `process`: WebSocket handshakes and framing run in a child process (the edge) that plain-TCP upgrade sockets are
   * handed to, so the main thread keeps only XMPP; `off` (default): everything in-process. TLS sockets always stay.
   */
  edge: 'off' | 'process';
}

export interface StreamManagementConfig {
  enabled: boolean;
  /** How long a dropped session waits for the client to resume it, in seconds. */
  resumeTimeoutSeconds: number;
  /** Unacknowledged stanzas kept per session; past this the session is closed. */
  maxUnacked: number;
}

export interface C2SConfig {
  /**
   * Write coalescing, in ms: a client connection that already wrote within this window has its room fan-out frames
   * held until the window's shared timer, so a busy room's messages leave in one syscall per socket. IQ answers,
   * 1:1 messages and a quiet connection's first frame are not held. 0: frames wait only for the end of the tick.
   */
  coalesceMs: number;
  /** Held bytes on one connection past which its frames leave without waiting for the window. */
  coalesceMaxBytes: number;
  /**
   * The widest the window grows under load, in ms: when the fan-out writes of all connections pass
   * `coalesceWritesPerSecond`, the window widens toward this (fewer syscalls, more latency), and narrows back to
   * `coalesceMs` when they fall. Equal to `coalesceMs`: a fixed window.
   */
  coalesceMaxMs: number;
  /** Fan-out writes a second (all client connections together) past which the window widens. */
  coalesceWritesPerSecond: number;
  /**
   * Fan-out frames a second (room messages and presences to all client connections together) from which the window
   * holds anything; below, they leave at the end of their tick, as with `coalesceMs` 0. The window saves about one
   * write per held frame: under this rate that is a small share of a core, for a delay on every message. 0: the
   * window holds at any rate.
   */
  coalesceMinFanoutPerSecond: number;
}

export interface ServerConfig {
  domain: string;
  /** Host for SASL ANONYMOUS viewers, or null to disable anonymous login. */
  anonymousHost: string | null;
  mucHost: string;
  dataDir: string;
  logLevel: LogLevel;
  /** `text` lines for people, or `json`: one object per line for log collectors. */
  logFormat: LogFormat;
  /** Standalone server only: `small` sets V8 flags for a small footprint (see src/heap-flags.ts), `default` none. */
  heap: 'default' | 'small';
  http: HttpConfig;
  limits: LimitsConfig;
  streamManagement: StreamManagementConfig;
  c2s: C2SConfig;
  websocket: WebSocketConfig;
  /**
   * In the first idle moment after start, a hundred viewers join and leave a hidden room over the server's own
   * WebSocket upgrade, so that the first real storm meets compiled code (src/rehearsal.ts). Needs anonymous login.
   * Default true.
   */
  rehearsal: boolean;
  /** Test mode for conformance transcripts: any password accepted, admin@domain is a server admin. Never default. */
  testMode: boolean;
  /** Bare JIDs with server-admin rights (room owners everywhere). */
  admins: string[];
  /** Raw sections owned by feature modules (muc, archive, certs, …), validated by those modules. */
  modules: Record<string, unknown>;
}

const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const checkDomain = (s: string) =>
  DOMAIN_RE.test(s) ? null : `"${s}" is not a valid domain name (lower case letters, digits, dots and dashes)`;
const checkPath = (s: string) => (s.startsWith('/') ? null : `must start with "/", got "${s}"`);

const TOP_KEYS = [
  'domain',
  'anonymousHost',
  'mucHost',
  'dataDir',
  'logLevel',
  'logFormat',
  'heap',
  'http',
  'limits',
  'streamManagement',
  'c2s',
  'websocket',
  'rehearsal',
  'testMode',
  'admins',
] as const;
/** Sections validated by their own modules; listed here so that a typo at the top level is still caught. */
export const MODULE_KEYS = ['muc', 'archive', 'certs', 'tcp', 's2s', 'bosh', 'avatars', 'webchat', 'bot'] as const;

export function validateConfig(input: unknown): ServerConfig {
  const o = asObject(input, '');
  onlyKeys(o, [...TOP_KEYS, ...MODULE_KEYS], '');
  const domain = str(o, 'domain', 'localhost', '', checkDomain).toLowerCase();
  const anon =
    o.anonymousHost === null || o.anonymousHost === false
      ? null
      : str(o, 'anonymousHost', `anon.${domain}`, '', checkDomain);
  const mucHost = str(o, 'mucHost', `room.${domain}`, '', checkDomain);
  if (anon === domain) throw new ConfigError('anonymousHost', 'must differ from domain');
  if (mucHost === domain || mucHost === anon)
    throw new ConfigError('mucHost', 'must differ from domain and anonymousHost');

  const h = asObject(o.http, 'http');
  onlyKeys(
    h,
    ['listen', 'host', 'port', 'websocketPath', 'boshPath', 'considerSecure', 'metricsPath', 'trustedProxies'],
    'http',
  );
  const http: HttpConfig = {
    listen: bool(h, 'listen', true, 'http'),
    host: str(h, 'host', '127.0.0.1', 'http'),
    port: int(h, 'port', 5280, 'http', 0, 65535),
    websocketPath: str(h, 'websocketPath', '/xmpp-websocket', 'http', checkPath),
    boshPath: str(h, 'boshPath', '/http-bind', 'http', checkPath),
    considerSecure: bool(h, 'considerSecure', true, 'http'),
    metricsPath: str(h, 'metricsPath', '/metrics', 'http', (p) => (p === '' ? null : checkPath(p))),
    trustedProxies: strList(h, 'trustedProxies', ['loopback'], 'http'),
  };
  for (const entry of http.trustedProxies) {
    const err = checkProxyEntry(entry);
    if (err) throw new ConfigError('http.trustedProxies', err);
  }

  const l = asObject(o.limits, 'limits');
  onlyKeys(
    l,
    [
      'maxStanzaSize',
      'pingAfterSeconds',
      'idleTimeoutSeconds',
      'maxSendBufferBytes',
      'maxTotalSendBufferBytes',
      'authTimeoutSeconds',
      'stanzasPerSecond',
      'stanzaBurst',
      'connectionsPerSecondPerIp',
      'connectionBurstPerIp',
      'rateLimitExempt',
      'acceptsPerLoopTurn',
    ],
    'limits',
  );
  const limits: LimitsConfig = {
    maxStanzaSize: int(l, 'maxStanzaSize', 256 * 1024, 'limits', 1024, 64 * 1024 * 1024),
    pingAfterSeconds: int(l, 'pingAfterSeconds', 60, 'limits', 1, 86400),
    idleTimeoutSeconds: int(l, 'idleTimeoutSeconds', 120, 'limits', 2, 86400),
    maxSendBufferBytes: int(l, 'maxSendBufferBytes', 4 * 1024 * 1024, 'limits', 16 * 1024, 1024 * 1024 * 1024),
    maxTotalSendBufferBytes: int(
      l,
      'maxTotalSendBufferBytes',
      64 * 1024 * 1024,
      'limits',
      16 * 1024,
      64 * 1024 * 1024 * 1024,
    ),
    authTimeoutSeconds: int(l, 'authTimeoutSeconds', 30, 'limits', 1, 3600),
    stanzasPerSecond: int(l, 'stanzasPerSecond', 50, 'limits', 1, 1_000_000),
    stanzaBurst: int(l, 'stanzaBurst', 500, 'limits', 1, 1_000_000),
    connectionsPerSecondPerIp: int(l, 'connectionsPerSecondPerIp', 20, 'limits', 1, 1_000_000),
    connectionBurstPerIp: int(l, 'connectionBurstPerIp', 1000, 'limits', 1, 1_000_000),
    rateLimitExempt: strList(l, 'rateLimitExempt', ['127.0.0.1', '::1'], 'limits'),
    acceptsPerLoopTurn: int(l, 'acceptsPerLoopTurn', 16, 'limits', 1, 256),
  };
  if (limits.maxTotalSendBufferBytes < limits.maxSendBufferBytes) {
    throw new ConfigError(
      'limits.maxTotalSendBufferBytes',
      `must be at least limits.maxSendBufferBytes (${limits.maxSendBufferBytes})`,
    );
  }
  if (limits.idleTimeoutSeconds <= limits.pingAfterSeconds) {
    throw new ConfigError(
      'limits.idleTimeoutSeconds',
      `must be greater than limits.pingAfterSeconds (${limits.pingAfterSeconds})`,
    );
  }

  const s = asObject(o.streamManagement, 'streamManagement');
  onlyKeys(s, ['enabled', 'resumeTimeoutSeconds', 'maxUnacked'], 'streamManagement');
  const streamManagement: StreamManagementConfig = {
    enabled: bool(s, 'enabled', true, 'streamManagement'),
    resumeTimeoutSeconds: int(s, 'resumeTimeoutSeconds', 300, 'streamManagement', 1, 86400),
    maxUnacked: int(s, 'maxUnacked', 5000, 'streamManagement', 10, 1_000_000),
  };

  const c = asObject(o.c2s, 'c2s');
  onlyKeys(
    c,
    ['coalesceMs', 'coalesceMaxBytes', 'coalesceMaxMs', 'coalesceWritesPerSecond', 'coalesceMinFanoutPerSecond'],
    'c2s',
  );
  const coalesceMs = int(c, 'coalesceMs', 100, 'c2s', 0, 5000);
  const c2s: C2SConfig = {
    coalesceMs,
    coalesceMaxBytes: int(c, 'coalesceMaxBytes', 4096, 'c2s', 512, 16 * 1024 * 1024),
    // Unset, it is never below coalesceMs (a larger coalesceMs alone is a wider fixed window).
    coalesceMaxMs: int(c, 'coalesceMaxMs', Math.max(400, coalesceMs), 'c2s', 0, 5000),
    coalesceWritesPerSecond: int(c, 'coalesceWritesPerSecond', DEFAULT_WRITES_PER_SECOND, 'c2s', 10, 10_000_000),
    coalesceMinFanoutPerSecond: int(c, 'coalesceMinFanoutPerSecond', 2000, 'c2s', 0, 10_000_000),
  };
  if (c2s.coalesceMaxMs < coalesceMs) {
    throw new ConfigError(
      'c2s.coalesceMaxMs',
      `must be at least c2s.coalesceMs (${coalesceMs}): it is the widest window`,
    );
  }
  if (c2s.coalesceMaxBytes > limits.maxSendBufferBytes) {
    throw new ConfigError(
      'c2s.coalesceMaxBytes',
      `must be at most limits.maxSendBufferBytes (${limits.maxSendBufferBytes}): held bytes count as unsent`,
    );
  }
  const w = asObject(o.websocket, 'websocket');
  onlyKeys(w, ['edge'], 'websocket');
  const websocket: WebSocketConfig = { edge: oneOf(w, 'edge', 'off', ['off', 'process'] as const, 'websocket') };

  const testMode = bool(o, 'testMode', false, '');
  const adminsRaw = o.admins;
  let admins: string[] = [];
  if (adminsRaw !== undefined) {
    if (!Array.isArray(adminsRaw) || adminsRaw.some((a) => typeof a !== 'string' || !a.includes('@'))) {
      throw new ConfigError('admins', 'expected a list of bare JIDs like "alice@example.org"');
    }
    admins = adminsRaw.map((a: string) => a.toLowerCase());
  }
  if (testMode && !admins.includes(`admin@${domain}`)) admins.push(`admin@${domain}`);

  const modules: Record<string, unknown> = {};
  for (const k of MODULE_KEYS) if (o[k] !== undefined) modules[k] = asObject(o[k], k);

  return {
    domain,
    anonymousHost: anon,
    mucHost,
    dataDir: resolve(str(o, 'dataDir', './data', '')),
    logLevel: oneOf(o, 'logLevel', 'info', ['error', 'warn', 'info', 'debug'] as const, ''),
    logFormat: oneOf(o, 'logFormat', 'text', ['text', 'json'] as const, ''),
    heap: oneOf(o, 'heap', 'default', ['default', 'small'] as const, ''),
    http,
    limits,
    streamManagement,
    c2s,
    websocket,
    rehearsal: bool(o, 'rehearsal', true, ''),
    testMode,
    admins,
    modules,
  };
}

/** Deep-merges b over a (plain objects only), for layering CLI flags over a config file. */
export function mergeRaw(a: Raw, b: Raw): Raw {
  const out: Raw = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const av = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && av && typeof av === 'object' && !Array.isArray(av)
        ? mergeRaw(av as Raw, v as Raw)
        : v;
  }
  return out;
}

export { optStr };
