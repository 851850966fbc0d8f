// Typed configuration of the message archive (wired into src/config.ts by the lead as `archive`).
import { ConfigError, asObject, int, join, onlyKeys, oneOf, str } from '../config-schema.js';
import { parseExpiry } from './expiry.js';

export type FsyncPolicy = 'always' | 'batch' | 'never';

export interface ArchiveConfig {
  /** Messages older than this are dropped: `never`, seconds, or 1h/2d/1w/1m/1y. Livechat's default is `1w`. */
  expiry: string;
  /** Per-room cap on archived messages; 0 = no cap. Older messages beyond the cap are invisible at once and
   * their segments are deleted by the next prune. */
  maxMessagesPerRoom: number;
  /** `always`: write + fdatasync as soon as possible (group commit of whatever queued meanwhile);
   * `batch`: write + fdatasync at once when nothing was written in the last batchDelayMs, else wait for it; while
   *   the write-coalescing window is due (a busy room), at its next wake-up instead (shared-wakeups.ts);
   * `never`: the same without fsync (survives a killed process, not a power cut). */
  fsync: FsyncPolicy;
  /** Upper bound on how long an appended message waits before it is written. */
  batchDelayMs: number;
  /** Recent messages per room kept in memory (history on join and "last N" never read disk). */
  hotTail: number;
  /** How many rooms keep a hot tail (lru-cache over rooms). */
  hotRooms: number;
  /** Memory budget of all hot tails together, in bytes (estimate). */
  hotBytes: number;
  /** A segment file is closed after this many messages... */
  segmentMessages: number;
  /** ...or when a message falls into a new time slice of this length (same syntax as expiry, never = off). */
  segmentSpan: string;
  /** How often pruning runs, in seconds (0 = only when prune() is called). */
  pruneIntervalSeconds: number;
  /** Appends are refused (ArchiveOverloadedError) while this many bytes wait to be written. */
  maxPendingBytes: number;
  /** Largest MAM page the server returns, whatever the client asks. */
  maxPage: number;
}

export const ARCHIVE_DEFAULTS: ArchiveConfig = {
  expiry: '1w',
  maxMessagesPerRoom: 0,
  fsync: 'batch',
  batchDelayMs: 20,
  hotTail: 200,
  hotRooms: 1000,
  hotBytes: 64 * 1024 * 1024,
  segmentMessages: 20000,
  segmentSpan: '1d',
  pruneIntervalSeconds: 3600,
  maxPendingBytes: 32 * 1024 * 1024,
  maxPage: 100,
};

const KEYS = Object.keys(ARCHIVE_DEFAULTS);

function checkExpiry(s: string): string | null {
  return parseExpiry(s) === null ? `not a duration: use never, a number of seconds, or e.g. 1h, 2d, 1w, 1m, 1y` : null;
}

export function validateArchive(raw: unknown, path: string): ArchiveConfig {
  const o = asObject(raw, path);
  onlyKeys(o, KEYS, path);
  const d = ARCHIVE_DEFAULTS;
  const cfg: ArchiveConfig = {
    expiry: str(o, 'expiry', d.expiry, path, checkExpiry),
    maxMessagesPerRoom: int(o, 'maxMessagesPerRoom', d.maxMessagesPerRoom, path, 0, 1e12),
    fsync: oneOf(o, 'fsync', d.fsync, ['always', 'batch', 'never'] as const, path),
    batchDelayMs: int(o, 'batchDelayMs', d.batchDelayMs, path, 0, 10000),
    hotTail: int(o, 'hotTail', d.hotTail, path, 0, 100000),
    hotRooms: int(o, 'hotRooms', d.hotRooms, path, 1, 1e6),
    hotBytes: int(o, 'hotBytes', d.hotBytes, path, 1024, 2 ** 40),
    segmentMessages: int(o, 'segmentMessages', d.segmentMessages, path, 16, 10_000_000),
    segmentSpan: str(o, 'segmentSpan', d.segmentSpan, path, checkExpiry),
    pruneIntervalSeconds: int(o, 'pruneIntervalSeconds', d.pruneIntervalSeconds, path, 0, 365 * 86400),
    maxPendingBytes: int(o, 'maxPendingBytes', d.maxPendingBytes, path, 64 * 1024, 2 ** 40),
    maxPage: int(o, 'maxPage', d.maxPage, path, 1, 10000),
  };
  const span = parseExpiry(cfg.segmentSpan)!;
  if (span !== Infinity && span < 60_000)
    throw new ConfigError(join(path, 'segmentSpan'), 'must be at least 60 seconds or never');
  return cfg;
}
