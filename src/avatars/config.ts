// Typed `avatars` config section.
import { asObject, int, onlyKeys, oneOf, str, strList, type Raw } from '../config-schema.js';
import { SET_NAMES, type SetName } from './art.js';

export interface AvatarsConfig {
  /** Which drawn set occupants get, or `none` for no computed avatars (empty vCards as before). */
  set: SetName | 'none';
  /**
   * What an occupant's avatar is derived from: its XEP-0421 occupant-id (stable across nick changes; an anonymous
   * viewer of this server: its address, as its own vCard's picture) or its nick.
   */
  seed: 'occupant-id' | 'nick';
  /** URL path the PNGs are served under: `<httpPath>/<sha1>.png`. */
  httpPath: string;
  /** Avatars kept in memory (each ≤ 1.5 KB plus its pre-serialized vCard). */
  cacheSize: number;
  /** Image jobs (sharp) running at once in libuv's thread pool. */
  maxConcurrent: number;
  /** Bare JIDs that get the bot avatar. */
  bots: string[];
  /**
   * Anonymous viewers' addresses made ahead with their avatars drawn, in idle time (~1 KB each), so a join storm
   * spends no time drawing for the first this many viewers (src/avatars/drawn-ahead.ts); 0: drawn at first use.
   */
  drawAhead: number;
}

const KEYS = ['set', 'seed', 'httpPath', 'cacheSize', 'maxConcurrent', 'bots', 'drawAhead'] as const;

export function validateAvatars(raw: unknown, path = 'avatars'): AvatarsConfig {
  const o: Raw = asObject(raw, path);
  onlyKeys(o, KEYS, path);
  return {
    set: oneOf<SetName | 'none'>(o, 'set', 'birds', [...SET_NAMES, 'none'], path),
    seed: oneOf(o, 'seed', 'occupant-id', ['occupant-id', 'nick'] as const, path),
    httpPath: str(o, 'httpPath', '/avatars', path, (s) =>
      /^(\/[A-Za-z0-9._~-]+)+$/.test(s)
        ? null
        : `must look like "/avatars" (a path without trailing slash), got "${s}"`,
    ),
    cacheSize: int(o, 'cacheSize', 10_000, path, 10, 10_000_000),
    maxConcurrent: int(o, 'maxConcurrent', 2, path, 1, 64),
    bots: strList(o, 'bots', [], path),
    drawAhead: int(o, 'drawAhead', 512, path, 0, 100_000),
  };
}
