// The `certs` config section: where certificates come from and whether to follow changes.
import { asObject, bool, onlyKeys, optStr } from '../config-schema.js';

export interface CertsConfig {
  /** Folder of PEM files (per-domain `.crt`/`.key`, or Let's Encrypt `fullchain.pem`/`privkey.pem`). Unset: self-signed. */
  folder?: string;
  /** Reload when files in `folder` change. */
  watch: boolean;
}

export const defaultCertsConfig: CertsConfig = { watch: true };

export function validateCerts(raw: unknown, path: string): CertsConfig {
  const o = asObject(raw, path);
  onlyKeys(o, ['folder', 'watch'], path);
  const folder = optStr(o, 'folder', path);
  return { ...(folder ? { folder } : {}), watch: bool(o, 'watch', defaultCertsConfig.watch, path) };
}
