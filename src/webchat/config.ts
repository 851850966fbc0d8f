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
}

const KEYS = ['enabled', 'basePath', 'defaultRoom', 'frameAncestors', 'pruneMessagesAbove', 'clientLogLevel'] as const;

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
  };
}
