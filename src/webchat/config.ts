// Typed `webchat` config section of the standalone server.
import { ConfigError, asObject, bool, int, onlyKeys, oneOf, optStr, str, type Raw } from '../config-schema.js';
import { isValidRoomKey } from './page-options.js';

export interface WebchatConfig {
  enabled: boolean;
  /** URL path prefix of the page and its assets. */
  basePath: string;
  /**
   * Room that `<basePath>/` redirects to; `undefined` means "the MUC's demo room, if any".
   * `null` (JSON null) turns the redirect off.
   */
  defaultRoom: string | null | undefined;
  /** CSP frame-ancestors: who may embed the page in an iframe. */
  frameAncestors: string;
  /** Messages ConverseJS keeps on screen. */
  pruneMessagesAbove: number;
  /** Browser console verbosity of ConverseJS. */
  clientLogLevel: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  /** Temporary ban durations (seconds) an occupant's menu offers owners and admins. */
  tempBanDurations: number[];
}

const KEYS = [
  'enabled',
  'basePath',
  'defaultRoom',
  'frameAncestors',
  'pruneMessagesAbove',
  'clientLogLevel',
  'tempBanDurations',
] as const;

export function validateWebchat(raw: unknown, path = 'webchat'): WebchatConfig {
  const o: Raw = asObject(raw, path);
  onlyKeys(o, KEYS, path);
  const basePath = str(o, 'basePath', '/webchat', path, (s) =>
    /^(\/[A-Za-z0-9._~-]+)+$/.test(s) ? null : `must look like "/webchat" (a path without trailing slash), got "${s}"`,
  );
  let defaultRoom: string | null | undefined;
  if (o.defaultRoom === null) defaultRoom = null;
  else {
    defaultRoom = optStr(o, 'defaultRoom', path);
    if (defaultRoom !== undefined && !isValidRoomKey(defaultRoom)) {
      throw new ConfigError(`${path}.defaultRoom`, `"${defaultRoom}" is not a valid room name`);
    }
  }
  const frameAncestors = str(o, 'frameAncestors', '*', path, (s) =>
    /^[^;,\r\n]+$/.test(s) ? null : 'must be a CSP source list such as "*" or "\'self\' https://video.example"',
  );
  return {
    enabled: bool(o, 'enabled', true, path),
    basePath,
    defaultRoom,
    frameAncestors,
    pruneMessagesAbove: int(o, 'pruneMessagesAbove', 100, path, 10, 10000),
    clientLogLevel: oneOf(o, 'clientLogLevel', 'warn', ['debug', 'info', 'warn', 'error', 'fatal'] as const, path),
    tempBanDurations: banDurations(o.tempBanDurations, `${path}.tempBanDurations`),
  };
}

const DEFAULT_BAN_DURATIONS = [600, 3600, 86400];

function banDurations(v: unknown, path: string): number[] {
  if (v === undefined) return DEFAULT_BAN_DURATIONS;
  if (!Array.isArray(v) || v.length === 0 || v.length > 10)
    throw new ConfigError(path, 'must be a list of 1 to 10 durations in seconds');
  for (const d of v) {
    if (!Number.isInteger(d) || d < 1 || d > 10 * 365 * 86400)
      throw new ConfigError(path, `each duration must be whole seconds from 1 to 10 years, got ${JSON.stringify(d)}`);
  }
  return v as number[];
}
