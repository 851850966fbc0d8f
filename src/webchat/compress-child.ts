// Compressing the large web chat assets (converse.min.js, its CSS) in a short-lived child process. Brotli 11 of a
// 1.3 MB script takes ~40 MB for seconds on the thread pool, and glibc keeps most of it in those threads' malloc
// arenas for the life of the process: measured, the server's resident memory stayed ~35 MB higher after start.
// A child does the work and exits; the server only receives the compressed bytes. Jobs run one at a time.
import { spawn } from 'node:child_process';
import { compress, compressOptions, type Encoding } from './encoding.js';

/** Bodies at least this large are compressed out of process; smaller ones cost little memory in it. */
export const OUT_OF_PROCESS_MIN_BYTES = 256 * 1024;
const CHILD_TIMEOUT_MS = 120_000;

// Plain CommonJS for `node -e`: the body on stdin, the compressed body on stdout.
const CHILD_SOURCE = `
process.title = 'xmpp-webchat-compress';
const zlib = require('node:zlib');
const [enc, opts] = [process.argv[1], JSON.parse(process.argv[2])];
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const body = Buffer.concat(chunks);
  process.stdout.end(enc === 'br' ? zlib.brotliCompressSync(body, opts) : zlib.gzipSync(body, opts));
});
`;

function inChild(body: Buffer, enc: Exclude<Encoding, 'identity'>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-e', CHILD_SOURCE, enc, JSON.stringify(compressOptions(body, enc, 'max'))],
      // No inherited NODE_OPTIONS: the child needs nothing but node:zlib.
      { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, NODE_OPTIONS: '' } },
    );
    const out: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    timer.unref();
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = Buffer.concat(out);
      if (code === 0 && result.length > 0) resolve(result);
      else reject(new Error(`compression child ended with ${signal ?? `code ${code}`}`));
    });
    child.stdin.on('error', () => {}); // a child that died early: 'close' reports it
    child.stdin.end(body);
  });
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Compresses an immutable asset at the highest level: large bodies in a child process (one at a time), small ones
 * (and any whose child fails: spawning may be refused where the server is embedded) on the thread pool.
 */
export function compressAsset(
  body: Buffer,
  enc: Exclude<Encoding, 'identity'>,
  onFallback?: (why: string) => void,
): Promise<Buffer> {
  if (body.length < OUT_OF_PROCESS_MIN_BYTES) return compress(body, enc, 'max');
  const job = queue.then(() =>
    inChild(body, enc).catch((e: unknown) => {
      onFallback?.(String((e as Error)?.message ?? e));
      return compress(body, enc, 'max');
    }),
  );
  queue = job.catch(() => {});
  return job;
}
