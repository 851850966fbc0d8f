// SASL PLAIN (RFC 4616): authzid NUL authcid NUL password.
import type { AuthProvider } from '../../auth/provider.js';
import { failure, type SaslMechanism } from './mechanism.js';

export function plainMechanism(auth: AuthProvider): SaslMechanism {
  return {
    name: 'PLAIN',
    start: (ctx) => ({
      async step(data) {
        if (!data) return { kind: 'challenge', data: Buffer.alloc(0) };
        const parts = data.toString('utf8').split('\0');
        if (parts.length !== 3) return failure('malformed-request');
        const [authzid, authcid, password] = parts;
        const username = authcid.toLowerCase();
        if (!username || !password) return failure('not-authorized');
        if (authzid && authzid !== username && authzid !== `${username}@${ctx.host}`) return failure('invalid-authzid');
        if (!(await auth.checkPassword(username, password))) return failure('not-authorized');
        return { kind: 'success', username };
      },
    }),
  };
}
