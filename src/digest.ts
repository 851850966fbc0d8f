// Hashing a small input in one call. crypto.hash (Node >= 20.12) builds no Hash object (a stream) and crosses into
// OpenSSL once, where createHash().update().digest() does both every time; the join path hashes a few times per
// viewer (occupant id, address key, avatar hash). Older Node 20 falls back to createHash.
import * as crypto from 'node:crypto';

type Encoding = 'hex' | 'base64' | 'base64url';
type OneShot = (algorithm: string, data: string | Buffer, encoding: Encoding) => string;

const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

/** The digest of `data` (a string is hashed as UTF-8) in `encoding`. */
export function digest(algorithm: 'sha1' | 'sha256', data: string | Buffer, encoding: Encoding): string {
  if (oneShot) return oneShot(algorithm, data, encoding);
  return crypto.createHash(algorithm).update(data).digest(encoding);
}
