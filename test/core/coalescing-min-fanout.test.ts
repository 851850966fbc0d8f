// The window holds nothing while the server's fan-out is light (c2s.coalesceMinFanoutPerSecond): a connection that
// just received a room frame gets the next one at the end of its tick, not a window later. Once the fan-out rate
// passes the bound the window holds as before, and below half of it the frames leave at once again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HeldFrames, WriteCoalescer } from '../../src/xmpp/write-coalescing.js';

const WINDOW_MS = 5000;
const MIN_RATE = 2000;
const N = 50;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => process.nextTick(r));

function connections(co: WriteCoalescer, n: number) {
  const writes: number[] = new Array(n).fill(0);
  const conns = Array.from({ length: n }, (_, i) => new HeldFrames(co, { writeHeld: () => void writes[i]!++ }));
  const sendAll = () => {
    for (const c of conns) c.frame(Buffer.from('<m/>'), true);
  };
  return { writes, conns, sendAll };
}

test('light fan-out: a busy connection’s next room frame leaves at the end of its tick, not a window later', async () => {
  const co = new WriteCoalescer({ windowMs: WINDOW_MS, maxHeldBytes: 1 << 20, minFanoutPerSecond: MIN_RATE });
  const { writes, sendAll } = connections(co, 5);
  // Five connections, a frame each every 20 ms: 250 frames a second, well under the bound.
  for (let i = 0; i < 20; i++) {
    const before = [...writes];
    sendAll();
    await tick();
    assert.ok(
      writes.every((w, k) => w === before[k]! + 1),
      `frame ${i}: held for the window although the fan-out is light (${writes.join(',')})`,
    );
    await sleep(20);
  }
  assert.is(co.windowing, false);
});

test('the same frames are held once the fan-out passes the bound, and leave at once again when it falls', async () => {
  // A window short enough for the fall to be seen soon: the rate is measured as frames come to idle connections
  // and as held ones are released, so a connection held for a window is measured again at its end.
  const co = new WriteCoalescer({ windowMs: 300, maxHeldBytes: 1 << 20, minFanoutPerSecond: MIN_RATE });
  const { writes, conns, sendAll } = connections(co, N);
  // 50 connections, a frame each every ~2 ms: far above 2,000 frames a second (bounded in count).
  for (let i = 0; i < 500 && !co.windowing; i++) {
    sendAll();
    await sleep(2);
  }
  assert.ok(co.windowing, 'the window never started holding under a heavy fan-out');
  // Busy connections now wait for the window: a burst of frames adds no write on any of them.
  sendAll(); // the first frames after the switch may still leave (a connection not yet busy)
  await tick();
  const held = [...writes];
  for (let i = 0; i < 20; i++) {
    sendAll();
    await tick();
  }
  assert.equal(writes, held, 'frames left before the window ended although the fan-out is heavy');
  for (const c of conns) c.flush();

  // Light again: a frame on one connection every 100 ms (10 a second); within a few measures the window stops
  // holding, and a frame to every connection leaves at the end of its tick.
  for (let i = 0; i < 30 && co.windowing; i++) {
    conns[0]!.frame(Buffer.from('<q/>'), true);
    await sleep(100);
  }
  assert.is(co.windowing, false, 'the window kept holding after the fan-out fell');
  for (const c of conns) c.flush();
  const quiet = [...writes];
  sendAll();
  await tick();
  assert.ok(
    writes.every((w, k) => w === quiet[k]! + 1),
    'after the fan-out fell, a frame waited for the window instead of leaving at the end of its tick',
  );
});

test('a rate near the bound does not switch the window at every measure (off only below half of it)', async () => {
  const co = new WriteCoalescer({ windowMs: 50, maxHeldBytes: 1 << 20, minFanoutPerSecond: MIN_RATE });
  const { conns, sendAll } = connections(co, N);
  for (let i = 0; i < 500 && !co.windowing; i++) {
    sendAll();
    await sleep(2);
  }
  assert.ok(co.windowing);
  // ~1,500 frames a second (under the bound, over half of it): 15 frames every 10 ms, for ~2.5 s, well past the
  // second of light fan-out after which a rate under half the bound switches the window off.
  let switchedOff = false;
  for (let i = 0; i < 250; i++) {
    for (let k = 0; k < 15; k++) conns[k]!.frame(Buffer.from('<m/>'), true);
    await sleep(10);
    if (!co.windowing) switchedOff = true;
  }
  assert.not.ok(switchedOff, 'the window stopped holding at a rate above half of the bound');
  for (const c of conns) c.flush();
});

test('0 (the default of a coalescer made without it): the window holds at any rate', async () => {
  const co = new WriteCoalescer({ windowMs: WINDOW_MS, maxHeldBytes: 1 << 20 });
  const { writes, sendAll, conns } = connections(co, 2);
  sendAll();
  await tick();
  const first = [...writes];
  sendAll();
  await tick();
  assert.equal(writes, first, 'a busy connection’s frame left before the window ended');
  for (const c of conns) c.flush();
});

test.run();
