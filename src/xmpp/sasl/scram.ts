// SCRAM-SHA-1 / SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, with -PLUS channel binding when the transport
// offers it (RFC 5929 tls-server-end-point, RFC 9266 tls-exporter).
import { randomBytes } from 'node:crypto';
import type { AuthProvider, ScramHash } from '../../auth/provider.js';
import { hash, hmac, timingSafeEq } from '../../auth/scram-keys.js';
import { failure, type SaslMechanism, type SaslStep } from './mechanism.js';

function parseAttrs(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of s.split(',')) {
    const i = part.indexOf('=');
    if (i === 1) m.set(part[0], part.slice(2));
  }
  return m;
}

function saslname(s: string): string | null {
  // "=2C" is ',' and "=3D" is '='; any other '=' is malformed.
  if (/=(?!2C|3D)/.test(s)) return null;
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

export function scramMechanism(auth: AuthProvider, h: ScramHash, plus = false): SaslMechanism {
  const name = `SCRAM-${h === 'sha-1' ? 'SHA-1' : 'SHA-256'}${plus ? '-PLUS' : ''}`;
  return {
    name,
    start(ctx) {
      let state: 'first' | 'final' | 'done' = 'first';
      let gs2Header = '';
      let cbType = '';
      let clientFirstBare = '';
      let serverFirst = '';
      let nonce = '';
      let username = '';
      let creds: Awaited<ReturnType<NonNullable<AuthProvider['getScramCredentials']>>> = null;

      async function first(msg: string): Promise<SaslStep> {
        // gs2-header: cbind-flag "," [authzid] ","
        const m = /^(n|y|p=([A-Za-z0-9.-]+)),(a=[^,]*)?,(.*)$/.exec(msg);
        if (!m) return failure('malformed-request');
        const [, flag, cb, , bare] = m;
        if (plus && !flag.startsWith('p=')) return failure('malformed-request', 'SCRAM-PLUS needs channel binding');
        // "y" from a client that could have used -PLUS while we offered it means a downgrade attack.
        if (!plus && flag === 'y' && ctx.channelBinding?.('tls-exporter'))
          return failure('not-authorized', 'channel binding downgrade');
        if (!plus && flag.startsWith('p='))
          return failure('malformed-request', 'channel binding with a non-PLUS mechanism');
        cbType = cb ?? '';
        gs2Header = msg.slice(0, msg.length - bare.length);
        clientFirstBare = bare;
        const attrs = parseAttrs(bare);
        const user = saslname(attrs.get('n') ?? '');
        const cnonce = attrs.get('r');
        if (!user || !cnonce || bare.startsWith('m=')) return failure('malformed-request');
        username = user.toLowerCase();
        creds = (await auth.getScramCredentials?.(username, h)) ?? null;
        // Unknown users get a made-up salt so that the exchange looks the same (no user enumeration).
        const salt =
          creds?.salt ??
          hash(h, Buffer.from('unknown:' + username))
            .subarray(0, 16)
            .toString('base64');
        nonce = cnonce + randomBytes(18).toString('base64');
        serverFirst = `r=${nonce},s=${salt},i=${creds?.iterations ?? 10000}`;
        state = 'final';
        return { kind: 'challenge', data: Buffer.from(serverFirst) };
      }

      async function final(msg: string): Promise<SaslStep> {
        state = 'done';
        const attrs = parseAttrs(msg);
        const proofB64 = attrs.get('p');
        if (attrs.get('r') !== nonce || !proofB64 || !attrs.has('c')) return failure('malformed-request');
        let expectedCbind = Buffer.from(gs2Header);
        if (plus) {
          const data = ctx.channelBinding?.(cbType);
          if (!data) return failure('not-authorized', `channel binding type ${cbType} is not available`);
          expectedCbind = Buffer.concat([expectedCbind, data]);
        }
        if (attrs.get('c') !== expectedCbind.toString('base64'))
          return failure('not-authorized', 'channel binding mismatch');
        if (!creds) return failure('not-authorized');
        const withoutProof = msg.slice(0, msg.lastIndexOf(',p='));
        const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
        const storedKey = Buffer.from(creds.storedKey, 'base64');
        const signature = hmac(h, storedKey, authMessage);
        const proof = Buffer.from(proofB64, 'base64');
        if (proof.length !== signature.length) return failure('not-authorized');
        const clientKey = Buffer.alloc(proof.length);
        for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ signature[i];
        if (!timingSafeEq(hash(h, clientKey), storedKey)) return failure('not-authorized');
        const serverSig = hmac(h, Buffer.from(creds.serverKey, 'base64'), authMessage);
        return { kind: 'success', username, data: Buffer.from(`v=${serverSig.toString('base64')}`) };
      }

      return {
        async step(data) {
          if (state === 'first') {
            if (!data) return { kind: 'challenge', data: Buffer.alloc(0) };
            return first(data.toString('utf8'));
          }
          if (state === 'final') return final(data?.toString('utf8') ?? '');
          return failure('malformed-request');
        },
      };
    },
  };
}
