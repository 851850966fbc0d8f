// Random bytes for per-connection identifiers (stream ids, resources, anonymous usernames): taken from a pooled
// buffer filled by the CSPRNG a few KB at a time, since a synchronous randomBytes() call per identifier cost about
// as much as a whole disco round trip during a join storm. Same source, so just as unpredictable.
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafeSlow(POOL_SIZE);
let used = POOL_SIZE;

/** `n` (≤ 256) fresh random bytes as a string in `encoding`; no byte is ever handed out twice. */
export function randomString(n: number, encoding: 'hex' | 'base64url'): string {
  if (n > 256) throw new RangeError('randomString: at most 256 bytes');
  if (used + n > POOL_SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  const s = pool.toString(encoding, used, used + n);
  used += n;
  return s;
}
