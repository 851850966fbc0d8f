// A WebSocket connection's held frames are built, at release, in one buffer that the next release reuses when the
// socket took it whole: no new buffer per release for the garbage collector to free later (native memory that
// piled up during a join storm). A socket that keeps bytes (its reader is slow) keeps its buffer: nothing it holds
// is ever written over, which the paused real reader below checks end to end (test/helpers/paused-reader.ts; the
// edge process: test/edge/edge-release-buffer.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HeldFrames } from '../../src/xmpp/write-coalescing.js';
import { startTestServer } from '../helpers/server.js';
import { PAUSED_READER_LIMITS, pausedReaderGetsEverything } from '../helpers/paused-reader.js';
import { readFrames } from '../helpers/ws-frames.js';

const tick = () => new Promise((r) => process.nextTick(r));

test('a writer that takes each release whole gets the same buffer again', async () => {
  const seen: Array<{ bytes: Buffer; text: string[] }> = [];
  const held = new HeldFrames(undefined, {
    writeHeld: (b) => void seen.push({ bytes: b, text: readFrames(b) }),
    heldDrained: () => true,
  });
  const texts = ['<a>é€😀</a>', 'x'.repeat(300), '<b/>'];
  for (const t of texts) {
    held.frame(Buffer.from(t), false);
    await tick();
  }
  assert.equal(
    seen.map((s) => s.text),
    texts.map((t) => [t]),
  );
  const [a, b, c] = seen.map((s) => s.bytes);
  // Buffer.allocUnsafe's shared pool would give the same ArrayBuffer at another offset: check both.
  assert.ok(a!.buffer === b!.buffer && b!.buffer === c!.buffer, 'each release had a buffer of its own');
  assert.is(a!.byteOffset, b!.byteOffset);
  assert.is(b!.byteOffset, c!.byteOffset);
});

test('a writer that keeps a release keeps its buffer: the next release never writes over it', async () => {
  const kept: Buffer[] = [];
  let keeps = false;
  const held = new HeldFrames(undefined, {
    writeHeld: (b) => void kept.push(b),
    heldDrained: () => !keeps || kept.length === 0,
  });
  held.frame(Buffer.from('<first/>'), false);
  await tick(); // taken whole: the buffer goes back for reuse
  keeps = true; // from now on the writer holds what it is given (a slow reader's socket)
  held.frame(Buffer.from('<second/>'), false);
  await tick();
  held.frame(Buffer.from('<third-overwrites?/>'), false);
  await tick();
  assert.equal(readFrames(kept[1]!), ['<second/>'], 'a kept release was written over');
  assert.equal(readFrames(kept[2]!), ['<third-overwrites?/>']);
  assert.ok(kept[1]!.buffer !== kept[2]!.buffer || kept[1]!.byteOffset !== kept[2]!.byteOffset);
});

test('a paused reader gets every message intact once it reads again, beside a reader that keeps up', async () => {
  const srv = await startTestServer(PAUSED_READER_LIMITS);
  try {
    await pausedReaderGetsEverything(srv);
  } finally {
    await srv.stop();
  }
});

test.run();
