// Compressing the large web chat assets (converse.min.js, its CSS) in a short-lived child process. Brotli 11 of a
// 1.3 MB script takes ~40 MB for seconds on the thread pool, and glibc keeps most of it in those threads' malloc
// arenas for the life of the process: measured, the server's resident memory stayed ~35 MB higher after start.
// A child does the work and exits; the server only receives the compressed bytes. Jobs run one at a time.
// A file is read by the child itself: freeing a 1.3 MB buffer read in the server raised glibc's mmap threshold for
// the rest of its life (allocations up to that size then come from the heap and stay resident), which cost ~5 MB of
// peak RSS in a 400-viewer join storm.
// The child runs at a low CPU priority: a crowd of viewers arriving while it works (right after a restart) must not
// share a core with seconds of brotli.
import { readFile, stat } from 'node:fs/promises';
import { constants as osConstants, getPriority, setPriority } from 'node:os';
import { runNodeScript } from '../node-child.js';
import { compress, compressFileStream, compressOptions, type Encoding } from './encoding.js';

/** Bodies at least this large are compressed out of process; smaller ones cost little memory in it. */
export const OUT_OF_PROCESS_MIN_BYTES = 256 * 1024;
const CHILD_TIMEOUT_MS = 120_000;

// Plain CommonJS for `node -e`: the body from the file named after the options, else on stdin; the compressed body
// on stdout.
const CHILD_SOURCE = `
process.title = 'xmpp-webchat-compress';
const zlib = require('node:zlib');
const [enc, opts, file] = [process.argv[1], JSON.parse(process.argv[2]), process.argv[3]];
const done = (body) => process.stdout.end(enc === 'br' ? zlib.brotliCompressSync(body, opts) : zlib.gzipSync(body, opts));
if (file) done(require('node:fs').readFileSync(file));
else {
  const chunks = [];
  process.stdin.on('data', (c) => chunks.push(c));
  process.stdin.on('end', () => done(Buffer.concat(chunks)));
}
`;

/** What the child compresses: bytes sent on its stdin, or a file it reads itself. */
type Source = { body: Buffer } | { file: string; size: number };

function inChild(source: Source, enc: Exclude<Encoding, 'identity'>): Promise<Buffer> {
  const size = 'body' in source ? source.body.length : source.size;
  const args = ['-e', CHILD_SOURCE, enc, JSON.stringify(compressOptions(size, enc, 'max'))];
  if ('file' in source) args.push(source.file);
  return runNodeScript('compression child', {
    args,
    input: 'body' in source ? source.body : undefined,
    timeoutMs: CHILD_TIMEOUT_MS,
    onSpawn: (child) => lowerPriority(child.pid),
  });
}

/**
 * Background work yields to the server and its clients: nice 10, not 19, so that on a machine kept busy by other
 * work (a live's transcoding) it still ends in seconds, and never above the server's own niceness.
 */
function lowerPriority(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, Math.max(getPriority(), osConstants.priority.PRIORITY_BELOW_NORMAL));
  } catch {
    // not fatal: the compression still runs, only at the server's priority
  }
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs one child job after the others; when the child fails, `fallback` compresses in process. */
function queued(
  source: Source,
  enc: Exclude<Encoding, 'identity'>,
  fallback: () => Promise<Buffer>,
  onFallback?: (why: string) => void,
): Promise<Buffer> {
  const job = queue.then(() =>
    inChild(source, enc).catch((e: unknown) => {
      onFallback?.(String((e as Error)?.message ?? e));
      return fallback();
    }),
  );
  queue = job.catch(() => {});
  return job;
}

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
  return queued({ body }, enc, () => compress(body, enc, 'max'), onFallback);
}

/**
 * compressAsset for a file: a large one is read by the child only; if the child fails, it is compressed in process
 * as it is read, never held whole.
 */
export async function compressFile(
  file: string,
  enc: Exclude<Encoding, 'identity'>,
  onFallback?: (why: string) => void,
  knownSize?: number,
): Promise<Buffer> {
  const size = knownSize ?? (await stat(file)).size;
  if (size < OUT_OF_PROCESS_MIN_BYTES) return compress(await readFile(file), enc, 'max');
  return queued({ file, size }, enc, () => compressFileStream(file, size, enc, 'max'), onFallback);
}
