// The write-coalescing window widens under load and narrows when it passes: while the connections' fan-out writes
// exceed the budget, each connection writes far less often than its frames arrive (many frames per write), every
// frame still arrives once and in order; once the load stops, the window is back to its base and a frame after a
// lull leaves at the end of its tick.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HeldFrames, WriteCoalescer } from '../../src/xmpp/write-coalescing.js';

const BASE_MS = 10;
const MAX_MS = 2000;
const N = 40;

/** The payloads of the text frames in one write (headers of 2 bytes: the payloads here are short). */
function payloads(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < bytes.length;) {
    assert.is(bytes[at], 0x81, 'not a whole text frame');
    const len = bytes[at + 1]!;
    assert.ok(len < 126, 'unexpected long frame');
    out.push(bytes.subarray(at + 2, at + 2 + len).toString());
    at += 2 + len;
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => process.nextTick(r));

test('under load the window widens (fewer writes per connection), after it narrows back; frames complete, in order', async () => {
  // 40 busy connections against a budget of 10 writes a second: the window must widen to its cap to fit.
  const co = new WriteCoalescer({ windowMs: BASE_MS, maxHeldBytes: 1 << 20, maxWindowMs: MAX_MS, writesPerSecond: 10 });
  const writes: number[] = new Array(N).fill(0);
  const got: string[][] = Array.from({ length: N }, () => []);
  const conns = Array.from(
    { length: N },
    (_, i) =>
      new HeldFrames(co, {
        writeHeld: (b) => {
          writes[i]!++;
          got[i]!.push(...payloads(b));
        },
      }),
  );
  let sent = 0;
  const sendAll = () => {
    const f = Buffer.from(`<m n="${sent++}"/>`);
    for (const c of conns) c.frame(f, true);
  };
  assert.is(co.windowMs, BASE_MS);

  // Load: a frame to every connection every few ms, until the window reached its cap (bounded in count).
  while (co.windowMs < MAX_MS && sent < 5000) {
    sendAll();
    await sleep(2);
  }
  assert.is(co.windowMs, MAX_MS, `the window did not widen under load (at ${co.windowMs} ms after ${sent} frames)`);
  // At the cap: the next 100 frames take at least 200 ms to send, yet each connection writes at most twice meanwhile
  // (at the base window it would have written on every frame or every few).
  const before = [...writes];
  for (let i = 0; i < 100; i++) {
    sendAll();
    await sleep(2);
  }
  const during = writes.map((w, i) => w - before[i]!);
  assert.ok(
    during.every((w) => w <= 2),
    `writes per connection over 100 frames at the widest window: ${during.join(',')}`,
  );

  // Everything arrives, once and in order, when the held frames leave.
  for (let i = 0; i < 1000 && got.some((g) => g.length < sent); i++) await sleep(10);
  const expected = Array.from({ length: sent }, (_, k) => `<m n="${k}"/>`);
  for (const g of got) assert.equal(g, expected);

  // Quiet: an occasional frame on one connection (fewer writes than the budget); the window narrows back to its
  // base (bounded in count).
  for (let i = 0; i < 100 && co.windowMs > BASE_MS; i++) {
    conns[0]!.frame(Buffer.from('<q/>'), true);
    await sleep(200);
  }
  assert.is(co.windowMs, BASE_MS, 'the window did not narrow once the load stopped');
  // A frame after a lull is no longer held for a window: it leaves at the end of its tick, on every connection.
  await sleep(BASE_MS * 3);
  const quiet = [...writes];
  sendAll();
  await tick();
  assert.ok(
    writes.every((w, i) => w === quiet[i]! + 1),
    'after the load, a frame waited for a window instead of leaving at the end of its tick',
  );
});

test('a fixed window (no cap above the base) never widens, however many writes', async () => {
  const co = new WriteCoalescer({ windowMs: BASE_MS, maxHeldBytes: 1 << 20, writesPerSecond: 10 });
  const conns = Array.from({ length: N }, () => new HeldFrames(co, { writeHeld: () => undefined }));
  for (let i = 0; i < 300; i++) {
    for (const c of conns) c.frame(Buffer.from('<m/>'), true);
    await sleep(2);
  }
  assert.is(co.windowMs, BASE_MS);
});

test.run();
