// XEP-0220 dialback keys, computed the XEP-0185 way: HMAC-SHA256(SHA256(secret), receiving ' ' originating ' ' id).
// Only we ever check our own keys, but the recommended construction keeps them unforgeable without a stored table.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

export class DialbackKeys {
  private readonly hashedSecret: Buffer;

  constructor(secret: string) {
    this.hashedSecret = createHash('sha256').update(secret).digest();
  }

  generate(receiving: string, originating: string, streamId: string): string {
    return createHmac('sha256', this.hashedSecret).update(`${receiving} ${originating} ${streamId}`).digest('hex');
  }

  verify(receiving: string, originating: string, streamId: string, key: string): boolean {
    const want = Buffer.from(this.generate(receiving, originating, streamId));
    const got = Buffer.from(key.trim());
    return got.length === want.length && timingSafeEqual(got, want);
  }
}

/** The secret kept in the data folder, made on first start (restarts keep verifying keys handed out before). */
export async function loadOrCreateSecret(dataDir: string): Promise<string> {
  const dir = join(dataDir, 's2s');
  const file = join(dir, 'dialback-secret');
  try {
    const s = (await readFile(file, 'utf8')).trim();
    if (s.length >= 32) return s;
  } catch {
    /* first start */
  }
  await mkdir(dir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  const tmp = `${file}.tmp`;
  await writeFile(tmp, secret + '\n', { mode: 0o600 });
  await rename(tmp, file);
  return secret;
}
