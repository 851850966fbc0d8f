// SASL ANONYMOUS (RFC 4505): viewers get a fresh random local part on the anonymous host.
import { randomString } from '../random.js';
import type { SaslMechanism } from './mechanism.js';

/** A fresh random local part: 12 characters of [a-z0-9]. */
export function anonymousLocalPart(): string {
  return randomString(9, 'base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x');
}

/**
 * `made`: a local part made ahead (with its avatar drawn in idle time, src/avatars/drawn-ahead.ts), or undefined for
 * a fresh one made now.
 */
export function anonymousMechanism(made?: () => string | undefined): SaslMechanism {
  return {
    name: 'ANONYMOUS',
    start: () => ({
      // The trace token a client may send is ignored: it carries no identity.
      step: async () => ({ kind: 'success', username: made?.() ?? anonymousLocalPart() }),
    }),
  };
}
