// An archive whose writes ride a wake-up that is coming anyway (src/shared-wakeups.ts: the write-coalescing
// window's): records wait for it and go to disk together, are durable only then, and survive a reopen. With
// nothing due, fsync 'always' or a batch delay of 0, a quiet archive writes at once as before.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileArchive } from '../../src/storage/archive.js';
import { SharedWakeups } from '../../src/shared-wakeups.js';
import { msgXml, pageAll, tempDir } from './helpers.js';

const CFG = { expiry: 'never', segmentMessages: 64, hotTail: 10, fsync: 'batch' as const };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An archive in `dir` whose writes may ride the shared wake-ups, the next one due `dueInMs` from now (or none). */
function ridingArchive(
  dir: string,
  dueInMs: number | undefined,
  cfg: ConstructorParameters<typeof FileArchive>[1] = CFG,
): { wakeups: SharedWakeups; archive: FileArchive } {
  const wakeups = new SharedWakeups();
  if (dueInMs !== undefined) wakeups.setOwner(() => performance.now() + dueInMs);
  return { wakeups, archive: new FileArchive(dir, cfg, { wakeups }) };
}

/** The ids of `room`'s archived messages, as an archive opened again on `dir` finds them. */
async function idsAfterReopen(dir: string, room: string): Promise<string[]> {
  const again = new FileArchive(dir, CFG);
  const { items } = await pageAll(await again.open(room), {}, 10);
  await again.close();
  return items.map((m) => m.id);
}

test('records wait for the coming wake-up, are written together then, and survive a reopen', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { wakeups, archive } = ridingArchive(dir, 200);
    const ra = await archive.open('busy@room.localhost');
    const recs = [0, 1, 2].map((i) => ra.append({ nick: 'n', xml: msgXml(i) }));
    let durable = false;
    const all = Promise.all(recs.map((r) => ra.whenDurable(r.id))).then(() => (durable = true));
    await sleep(100);
    assert.not.ok(durable, 'records were written before the wake-up they wait for');
    assert.ok(recs.every((r) => ra.isPending(r.id)));
    assert.is(archive.stats().writes, 0);
    wakeups.wake();
    await all;
    assert.is(archive.stats().writes, 1, 'the three records were not written in one batch');
    await archive.close();
    assert.equal(
      await idsAfterReopen(dir, 'busy@room.localhost'),
      recs.map((r) => r.id),
    );
  } finally {
    await cleanup();
  }
});

test('a flood does not wait: past 64 KB waiting, records are written before the wake-up', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { wakeups, archive } = ridingArchive(dir, 800);
    const ra = await archive.open('flood@room.localhost');
    const big = 'x'.repeat(4000);
    const recs = Array.from({ length: 40 }, (_, i) =>
      ra.append({ nick: 'n', xml: `<message type="groupchat"><body>${i} ${big}</body></message>` }),
    );
    const t0 = performance.now();
    await Promise.all(recs.map((r) => ra.whenDurable(r.id)));
    const ms = performance.now() - t0;
    assert.ok(ms < 400, `160 KB of records waited ${Math.round(ms)} ms, for the wake-up 800 ms away`);
    assert.ok(wakeups.wake() === false, 'the flood still had a ride waiting');
    await archive.close();
  } finally {
    await cleanup();
  }
});

test('closing the archive writes what waits for a wake-up', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { wakeups, archive } = ridingArchive(dir, 500);
    const ra = await archive.open('closing@room.localhost');
    const rec = ra.append({ nick: 'n', xml: msgXml(0) });
    await archive.close();
    assert.not.ok(wakeups.wake(), 'the cancelled ride still waited at the wake-up');
    assert.equal(await idsAfterReopen(dir, 'closing@room.localhost'), [rec.id]);
  } finally {
    await cleanup();
  }
});

for (const [label, cfg] of [
  ['no wake-up due', { ...CFG }],
  ["fsync 'always'", { ...CFG, fsync: 'always' as const }],
  ['a batch delay of 0', { ...CFG, batchDelayMs: 0 }],
] as const) {
  test(`${label}: a quiet archive writes at once`, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const { archive } = ridingArchive(dir, label === 'no wake-up due' ? undefined : 2000, cfg);
      const ra = await archive.open('quiet@room.localhost');
      const t0 = performance.now();
      const rec = ra.append({ nick: 'n', xml: msgXml(0) });
      await ra.whenDurable(rec.id);
      const ms = performance.now() - t0;
      assert.ok(ms < 500, `the record took ${Math.round(ms)} ms`);
      assert.is(archive.stats().writes, 1);
      await archive.close();
    } finally {
      await cleanup();
    }
  });
}

test.run();
