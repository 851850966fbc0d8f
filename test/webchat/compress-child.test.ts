// Large web chat assets are compressed in a child process (so brotli's memory never stays with the server); the
// bytes are the same as compressing in process, and when no child can be started they are compressed in process.
// A large file is read by the child itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { compressAsset, compressFile, OUT_OF_PROCESS_MIN_BYTES } from '../../src/webchat/compress-child.js';
import { COMPRESSION_CHILD, childrenWith } from '../helpers/child-processes.js';

// Text-like and a little random, so the compressed size says something.
const body = Buffer.from(
  Array.from({ length: 9000 }, (_, i) => `function f${i}(){return "${randomBytes(6).toString('hex')}"}\n`).join(''),
);

test('a large body: brotli and gzip from the child decompress to the original', async () => {
  assert.ok(body.length >= OUT_OF_PROCESS_MIN_BYTES, `the body (${body.length} B) takes the out-of-process path`);
  const fallbacks: string[] = [];
  const [br, gz] = await Promise.all([
    compressAsset(body, 'br', (w) => fallbacks.push(w)),
    compressAsset(body, 'gzip', (w) => fallbacks.push(w)),
  ]);
  assert.equal(fallbacks, [], 'no fallback');
  assert.ok(br.length < body.length / 2, `brotli shrinks it (${br.length} of ${body.length})`);
  assert.ok(brotliDecompressSync(br).equals(body));
  assert.ok(gunzipSync(gz).equals(body));
});

test('when no child can be started, the body is compressed in process and the fallback is reported', async () => {
  const real = process.execPath;
  process.execPath = '/nonexistent/node';
  const fallbacks: string[] = [];
  try {
    const br = await compressAsset(body, 'br', (w) => fallbacks.push(w));
    assert.ok(brotliDecompressSync(br).equals(body));
  } finally {
    process.execPath = real;
  }
  assert.is(fallbacks.length, 1, 'reported once');
  assert.match(fallbacks[0]!, /ENOENT|nonexistent/);
});

test('a large file: the child reads it, and without a child it is read and compressed in process', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'compress-file-'));
  const real = process.execPath;
  try {
    const file = join(dir, 'big.js');
    await writeFile(file, body);
    // The child runs through a wrapper that records its arguments: the file's path is among them (the child reads it).
    const args = join(dir, 'args.txt');
    const wrapper = join(dir, 'node-wrapper.sh');
    await writeFile(wrapper, `#!/bin/sh\nprintf '%s\\n' "$@" >> '${args}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    process.execPath = wrapper;
    const fallbacks: string[] = [];
    const [br, gz] = await Promise.all([
      compressFile(file, 'br', (w) => fallbacks.push(w)),
      compressFile(file, 'gzip', (w) => fallbacks.push(w)),
    ]);
    assert.equal(fallbacks, [], 'no fallback');
    assert.ok(brotliDecompressSync(br).equals(body));
    assert.ok(gunzipSync(gz).equals(body));
    const lines = (await readFile(args, 'utf8')).split('\n');
    assert.is(lines.filter((l) => l === file).length, 2, 'both children were given the file to read');
    process.execPath = '/nonexistent/node';
    const again = await compressFile(file, 'br', (w) => fallbacks.push(w));
    assert.ok(brotliDecompressSync(again).equals(body));
    assert.is(fallbacks.length, 1, 'the fallback is reported');
  } finally {
    process.execPath = real;
    await rm(dir, { recursive: true, force: true });
  }
});

test("the child compresses at a low CPU priority (nice 10, or the server's own if lower), below the server", async () => {
  const job = compressAsset(body, 'br');
  const seen = new Map<number, number>();
  const deadline = Date.now() + 20_000;
  let done = false;
  void job.finally(() => (done = true));
  while (!done && Date.now() < deadline) {
    for (const pid of childrenWith(COMPRESSION_CHILD)) {
      try {
        seen.set(pid, getPriority(pid));
      } catch {
        // gone already
      }
    }
    await sleep(2);
  }
  await job;
  assert.ok(seen.size > 0, 'the compression child was seen running');
  const expected = Math.max(10, getPriority());
  for (const [pid, nice] of seen) assert.is(nice, expected, `child ${pid}: nice ${nice}, server ${getPriority()}`);
});

test.run();
