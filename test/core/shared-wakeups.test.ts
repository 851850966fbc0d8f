// Shared wake-ups (src/shared-wakeups.ts): work rides a wake-up its owner says is coming, runs once when it comes,
// not at all once cancelled, and on its own shortly after the wake-up was due should that never come.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SharedWakeups } from '../../src/shared-wakeups.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('nothing due, or due too late: no ride, the caller wakes on its own', () => {
  const w = new SharedWakeups();
  assert.is(
    w.ride(() => assert.unreachable('ran'), 100),
    undefined,
  );
  w.setOwner(() => performance.now() + 500);
  assert.is(
    w.ride(() => assert.unreachable('ran'), 100),
    undefined,
  );
  assert.not.ok(w.wake(), 'a wake-up with nobody riding reported riders');
});

test('a ride runs at the wake-up, once; a cancelled one does not run', async () => {
  const w = new SharedWakeups();
  w.setOwner(() => performance.now() + 50);
  const ran: string[] = [];
  const a = w.ride(() => ran.push('a'), 100);
  const b = w.ride(() => ran.push('b'), 100);
  assert.ok(a && b);
  b!.cancel();
  assert.equal(ran, [], 'a ride ran before the wake-up');
  assert.ok(w.wake(), 'the wake-up did not report its riders');
  assert.equal(ran, ['a']);
  assert.not.ok(w.wake(), 'riders ran twice');
  await sleep(150); // past the fallback: it was cleared
  assert.equal(ran, ['a']);
});

test('a wake-up that never comes: the ride runs on its own shortly after it was due', async () => {
  const w = new SharedWakeups();
  w.setOwner(() => performance.now() + 30);
  const t0 = performance.now();
  let at = 0;
  assert.ok(w.ride(() => (at = performance.now()), 100, 20));
  await sleep(300);
  assert.ok(at > 0, 'the ride never ran');
  assert.ok(at - t0 >= 45, `it ran after ${Math.round(at - t0)} ms, before the wake-up and its grace were due`);
  assert.not.ok(w.wake(), 'a ride that ran on its own ran again at the wake-up');
});

test.run();
