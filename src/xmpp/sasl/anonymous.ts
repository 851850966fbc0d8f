// SASL ANONYMOUS (RFC 4505): viewers get a fresh random local part on the anonymous host.
import { randomString } from '../random.js';
import type { SaslMechanism } from './mechanism.js';

export function anonymousMechanism(): SaslMechanism {
  return {
    name: 'ANONYMOUS',
    start: () => ({
      // The trace token a client may send is ignored: it carries no identity.
      step: async () => ({
        kind: 'success',
        username: randomString(9, 'base64url')
          .toLowerCase()
          .replace(/[^a-z0-9]/g, 'x'),
      }),
    }),
  };
}
