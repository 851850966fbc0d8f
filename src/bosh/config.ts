// The `bosh` config section (XEP-0124/0206). The path itself is http.boshPath; these are the session rules the
// connection manager announces in its session creation response and enforces afterwards.
import { asObject, bool, int, onlyKeys } from '../config-schema.js';

export interface BoshConfig {
  /** Serve BOSH at http.boshPath (false: the handler declines every request). */
  enabled: boolean;
  /** Longest time a request is held before an empty response, in seconds; a client asking for more gets this. */
  maxWait: number;
  /** Most requests held at once per session; a client asking for more gets this. */
  maxHold: number;
  /** Seconds without any request pending after which the session is considered gone and cleaned up. */
  inactivity: number;
  /** Shortest allowed interval between empty polls in a polling session (hold 0), in seconds. */
  polling: number;
  /** Largest request body in bytes; 0 means limits.maxStanzaSize. */
  maxBodyBytes: number;
  /** Most BOSH sessions alive at once (each one holds a c2s session). */
  maxSessions: number;
  /** Send Access-Control-Allow-Origin: * so pages on other origins (embeds) can use the endpoint. */
  cors: boolean;
  /**
   * Shortest time between two responses carrying a room's fan-out to one session, in ms (0: the WebSocket window,
   * c2s.coalesceMs). Behind a per-IP request limit (PeerTube's plugin routes) a busy room otherwise costs a BOSH viewer
   * a request per window. Answers (a login's steps, IQ results) are not held by it and take what is held with them.
   */
  pushIntervalMs: number;
}

export const BOSH_DEFAULTS: BoshConfig = {
  enabled: true,
  maxWait: 60,
  maxHold: 1,
  inactivity: 60,
  polling: 2,
  maxBodyBytes: 0,
  maxSessions: 20_000,
  cors: true,
  pushIntervalMs: 0,
};

const KEYS = [
  'enabled',
  'maxWait',
  'maxHold',
  'inactivity',
  'polling',
  'maxBodyBytes',
  'maxSessions',
  'cors',
  'pushIntervalMs',
] as const;

export function validateBosh(raw: unknown, path = 'bosh'): BoshConfig {
  const o = asObject(raw, path);
  onlyKeys(o, KEYS, path);
  const d = BOSH_DEFAULTS;
  return {
    enabled: bool(o, 'enabled', d.enabled, path),
    maxWait: int(o, 'maxWait', d.maxWait, path, 1, 3600),
    maxHold: int(o, 'maxHold', d.maxHold, path, 0, 8),
    inactivity: int(o, 'inactivity', d.inactivity, path, 1, 3600),
    polling: int(o, 'polling', d.polling, path, 0, 600),
    maxBodyBytes: int(o, 'maxBodyBytes', d.maxBodyBytes, path, 0, 64 * 1024 * 1024),
    maxSessions: int(o, 'maxSessions', d.maxSessions, path, 1, 10_000_000),
    cors: bool(o, 'cors', d.cors, path),
    pushIntervalMs: int(o, 'pushIntervalMs', d.pushIntervalMs, path, 0, 10_000),
  };
}
