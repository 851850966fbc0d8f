// Archive ids: `<seq in base 36>-<10 chars of SHA-256(room salt, seq)>`. The position is readable, so an id
// resolves to its segment without any lookup table; the keyed suffix makes ids unguessable and lets a
// forged or stale id (e.g. from a deleted and recreated room, which gets a new salt) be rejected at once.
import { randomBytes } from 'node:crypto';
import { digest } from '../digest.js';

const ID_RE = /^([0-9a-z]{1,11})-([A-Za-z0-9_-]{10})$/;

export function newSalt(): Buffer {
  return randomBytes(16);
}

function mac(salt: Buffer, seq: number): string {
  // salt (16 bytes) followed by the seq as a double: fixed layout, no string building.
  const buf = Buffer.allocUnsafe(salt.length + 8);
  salt.copy(buf, 0);
  buf.writeDoubleLE(seq, salt.length);
  return digest('sha256', buf, 'base64url').slice(0, 10);
}

export function idFor(salt: Buffer, seq: number): string {
  return seq.toString(36) + '-' + mac(salt, seq);
}

/** The position an id stands for, or null if it is not one of this room's ids. */
export function seqOf(salt: Buffer, id: string): number | null {
  const m = ID_RE.exec(id);
  if (!m) return null;
  const seq = parseInt(m[1], 36);
  if (!Number.isSafeInteger(seq)) return null;
  return mac(salt, seq) === m[2] ? seq : null;
}
