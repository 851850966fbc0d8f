// Content-Encoding negotiation (RFC 9110 §12.5.3) and off-thread compression with node:zlib.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { brotliCompress, createBrotliCompress, createGzip, gzip, constants as zc } from 'node:zlib';

export type Encoding = 'br' | 'gzip' | 'identity';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/**
 * Picks the best encoding the client accepts: br, then gzip, then identity.
 * Honors q-values, including `q=0` refusals and `*`.
 */
export function negotiateEncoding(acceptEncoding: string | undefined): Encoding {
  if (!acceptEncoding) return 'identity';
  const q = new Map<string, number>();
  // Bounded: a header with thousands of entries is not a real browser.
  for (const part of acceptEncoding.split(',', 32)) {
    const [token, ...params] = part.trim().toLowerCase().split(';');
    if (!token) continue;
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) weight = Number(m[1]);
    }
    if (!Number.isFinite(weight)) weight = 0;
    q.set(token, weight);
  }
  const weightOf = (e: string): number => q.get(e) ?? q.get('*') ?? 0;
  const br = weightOf('br');
  const gzipW = Math.max(weightOf('gzip'), q.get('x-gzip') ?? 0);
  if (br > 0 && br >= gzipW) return 'br';
  if (gzipW > 0) return 'gzip';
  return 'identity';
}

/** zlib options for a body: brotli in text mode with a size hint, gzip; 'max' for immutable assets compressed once. */
export function compressOptions(
  bodyLength: number,
  enc: Exclude<Encoding, 'identity'>,
  level: 'max' | 'fast',
): { params: Record<number, number> } | { level: number } {
  if (enc === 'br') {
    return {
      params: {
        [zc.BROTLI_PARAM_QUALITY]: level === 'max' ? 11 : 5,
        [zc.BROTLI_PARAM_SIZE_HINT]: bodyLength,
        [zc.BROTLI_PARAM_MODE]: zc.BROTLI_MODE_TEXT,
      },
    };
  }
  return { level: level === 'max' ? 9 : 6 };
}

/**
 * Compresses on libuv's thread pool, so a 1 MB script never stalls the event loop.
 * `level: 'max'` is for immutable assets compressed once and kept; 'fast' for per-request bodies.
 */
export async function compress(
  body: Buffer,
  enc: Exclude<Encoding, 'identity'>,
  level: 'max' | 'fast',
): Promise<Buffer> {
  const opts = compressOptions(body.length, enc, level);
  return enc === 'br' ? brotli(body, opts as { params: Record<number, number> }) : gz(body, opts as { level: number });
}

/** compress() of a file of `size` bytes as it is read, a chunk at a time: it is never held whole in memory. */
export async function compressFileStream(
  file: string,
  size: number,
  enc: Exclude<Encoding, 'identity'>,
  level: 'max' | 'fast',
): Promise<Buffer> {
  const opts = compressOptions(size, enc, level);
  const zip =
    enc === 'br'
      ? createBrotliCompress(opts as { params: Record<number, number> })
      : createGzip(opts as { level: number });
  const out: Buffer[] = [];
  await pipeline(createReadStream(file), zip, async (compressed: AsyncIterable<Buffer>) => {
    for await (const chunk of compressed) out.push(chunk);
  });
  return Buffer.concat(out);
}
