// Background work waits for an idle event loop (src/loop-idleness.ts): the web chat's compression ahead of time and
// the avatars drawn ahead never start in the middle of a burst, and still happen once it is over (or at the latest).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoopIdleness, whenIdle } from '../../src/loop-idleness.js';

/** Keeps the event loop busy for `ms`, letting timers run every 20 ms. */
async function busyFor(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const slice = Date.now() + 20;
    while (Date.now() < slice);
    await new Promise((r) => setImmediate(r));
  }
}

test('LoopIdleness tells a busy interval from an idle one', async () => {
  const m = new LoopIdleness();
  await busyFor(150);
  assert.not.ok(m.wasIdle(), 'a busy interval counted as idle');
  await sleep(150);
  assert.ok(m.wasIdle(), 'an idle interval counted as busy');
});

test('whenIdle runs once, after afterMs, on an idle loop', async () => {
  let ran = 0;
  const t0 = Date.now();
  let at = 0;
  whenIdle(
    () => {
      ran++;
      at = Date.now() - t0;
    },
    { afterMs: 150, everyMs: 50 },
  );
  await sleep(100);
  assert.is(ran, 0, 'ran before afterMs');
  await sleep(300);
  assert.is(ran, 1);
  assert.ok(at >= 145, `ran after ${at} ms`);
});

test('whenIdle waits while the loop is busy and runs once it is idle; cancel stops it', async () => {
  let ran = 0;
  whenIdle(() => ran++, { afterMs: 20, everyMs: 50 });
  await busyFor(400);
  assert.is(ran, 0, 'ran in the middle of a burst');
  await sleep(300);
  assert.is(ran, 1, 'did not run once the burst was over');
  let cancelled = 0;
  const cancel = whenIdle(() => cancelled++, { afterMs: 50, everyMs: 50 });
  cancel();
  await sleep(200);
  assert.is(cancelled, 0, 'ran after cancel');
});

test('whenIdle runs anyway at latestMs when the loop never rests', async () => {
  let ran = 0;
  whenIdle(() => ran++, { afterMs: 20, everyMs: 40, latestMs: 200 });
  await busyFor(500);
  assert.is(ran, 1, 'never ran though the latest time had passed');
});

test.run();
