// RFC 5802 key derivation shared by the account store and the SCRAM mechanism.
import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { ScramCredentials, ScramHash } from './provider.js';

const pbkdf2Async = promisify(pbkdf2);

export const nodeHash = (h: ScramHash) => (h === 'sha-1' ? 'sha1' : 'sha256');
const keyLength = (h: ScramHash) => (h === 'sha-1' ? 20 : 32);

export function hmac(h: ScramHash, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(nodeHash(h), key).update(data).digest();
}

export function hash(h: ScramHash, data: Buffer): Buffer {
  return createHash(nodeHash(h)).update(data).digest();
}

export async function saltedPassword(
  h: ScramHash,
  password: string,
  salt: Buffer,
  iterations: number,
): Promise<Buffer> {
  // Run off the event loop's critical path: pbkdf2 async uses the libuv thread pool.
  return pbkdf2Async(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, keyLength(h), nodeHash(h));
}

export async function deriveCredentials(
  h: ScramHash,
  password: string,
  iterations = 10000,
  salt = randomBytes(16),
): Promise<ScramCredentials> {
  const salted = await saltedPassword(h, password, salt, iterations);
  const clientKey = hmac(h, salted, 'Client Key');
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: hash(h, clientKey).toString('base64'),
    serverKey: hmac(h, salted, 'Server Key').toString('base64'),
  };
}

/** Checks a password against stored keys (used for PLAIN when only SCRAM keys are kept). */
export async function passwordMatches(h: ScramHash, password: string, c: ScramCredentials): Promise<boolean> {
  const salted = await saltedPassword(h, password, Buffer.from(c.salt, 'base64'), c.iterations);
  const stored = hash(h, hmac(h, salted, 'Client Key'));
  return timingSafeEq(stored, Buffer.from(c.storedKey, 'base64'));
}

export function timingSafeEq(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
