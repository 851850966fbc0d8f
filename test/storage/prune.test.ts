// Pruning: expiry by age drops whole segments and hides nothing newer; the per-room cap; expiry syntax.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FileArchive } from '../../src/storage/archive.js';
import { parseExpiry } from '../../src/storage/expiry.js';
import { validateArchive } from '../../src/storage/config.js';
import { msgXml, pageAll, tempDir } from './helpers.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2030, 0, 1);

async function segCount(dir: string, room: string): Promise<number> {
  return (await readdir(join(dir, 'archive', room))).filter((f) => f.endsWith('.seg')).length;
}

test("expiry syntax is livechat's (seconds, d, w, m, y, never) plus h", () => {
  assert.is(parseExpiry('60'), 60_000);
  assert.is(parseExpiry('1h'), HOUR);
  assert.is(parseExpiry('2d'), 2 * DAY);
  assert.is(parseExpiry('1w'), 7 * DAY);
  assert.is(parseExpiry('1m'), 2629746_000);
  assert.is(parseExpiry('1y'), 31556952_000);
  assert.is(parseExpiry('never'), Infinity);
  for (const bad of ['', '1x', '-1d', '0', 'd', '1.5d']) assert.is(parseExpiry(bad), null, bad);
  assert.throws(() => validateArchive({ expiry: '3 weeks' }, 'archive'), /archive\.expiry/);
  assert.throws(() => validateArchive({ fsync: 'sometimes' }, 'archive'), /archive\.fsync/);
  assert.throws(() => validateArchive({ hotTial: 3 }, 'archive'), /archive\.hotTial: unknown setting/);
  assert.is(validateArchive(undefined, 'archive').expiry, '1w');
});

test('pruning by age removes what is older than the expiry and nothing newer, also after a restart', async () => {
  const { dir, cleanup } = await tempDir();
  let now = T0 + 10 * DAY;
  const cfg = { expiry: '3d', segmentSpan: '1d', segmentMessages: 100000, hotTail: 10, batchDelayMs: 1 };
  let archive = new FileArchive(dir, cfg, { now: () => now });
  try {
    const ra = await archive.open('old');
    // One message per hour for ten days: ten daily segments.
    const all = [];
    for (let h = 0; h < 240; h++) all.push(ra.append({ ts: T0 + h * HOUR, nick: 'n', xml: msgXml(h) }));
    await ra.flush();
    assert.is(await segCount(dir, 'old'), 10);
    const cutoff = now - 3 * DAY;
    const fresh = all.filter((m) => m.ts >= cutoff).map((m) => m.id);

    // Even before pruning, expired messages are invisible...
    assert.equal(
      (await pageAll(ra, {}, 50)).items.map((m) => m.id),
      fresh,
    );
    // ...and the old ids are gone.
    await ra.query({ after: all[0].id, max: 5 }).then(
      () => assert.unreachable('expired cursor accepted'),
      () => undefined,
    );

    const stats = await archive.prune(now);
    assert.is(stats.segments, 7, 'the seven whole days before the cutoff');
    assert.is(await segCount(dir, 'old'), 3);
    assert.equal(
      (await pageAll(ra, {}, 50)).items.map((m) => m.id),
      fresh,
    );
    assert.equal(
      (await pageAll(ra, {}, 50, true)).items.map((m) => m.id),
      fresh,
    );

    // Time passes: 1 more day expires; a restart sees the same.
    now += DAY;
    await archive.close();
    archive = new FileArchive(dir, cfg, { now: () => now });
    await archive.prune(now);
    const again = await archive.open('old');
    const fresh2 = all.filter((m) => m.ts >= now - 3 * DAY).map((m) => m.id);
    assert.equal(
      (await pageAll(again, {}, 50)).items.map((m) => m.id),
      fresh2,
    );
    assert.is(await segCount(dir, 'old'), 2);
    assert.equal(
      (await again.history(100)).map((m) => m.id),
      fresh2.slice(-100),
    );
  } finally {
    await archive.close();
    await cleanup();
  }
});

test('a fully expired room keeps its id sequence (no id is ever reused)', async () => {
  const { dir, cleanup } = await tempDir();
  let now = T0;
  const cfg = { expiry: '1h', segmentSpan: 'never', hotTail: 10, batchDelayMs: 1 };
  let archive = new FileArchive(dir, cfg, { now: () => now });
  try {
    let ra = await archive.open('quiet');
    const old = [];
    for (let i = 0; i < 50; i++) old.push(ra.append({ ts: T0 + i, nick: 'n', xml: msgXml(i) }));
    await ra.flush();
    now = T0 + 2 * HOUR;
    const stats = await archive.prune(now);
    assert.is(stats.messages, 50);
    assert.is(ra.tail(10).length, 0);
    assert.is((await ra.query({ max: 10 })).count, 0);
    await archive.close();
    archive = new FileArchive(dir, cfg, { now: () => now });
    ra = await archive.open('quiet');
    const next = ra.append({ nick: 'n', xml: msgXml(99) });
    assert.is(next.seq, 50);
    assert.not.ok(old.some((m) => m.id === next.id));
    assert.equal(
      (await ra.query({ max: 10 })).items.map((m) => m.id),
      [next.id],
    );
  } finally {
    await archive.close();
    await cleanup();
  }
});

test('per-room cap: only the newest N are visible at once, pruning frees the older segments', async () => {
  const { dir, cleanup } = await tempDir();
  const cfg = { expiry: 'never', maxMessagesPerRoom: 100, segmentMessages: 32, hotTail: 10, batchDelayMs: 1 };
  let archive = new FileArchive(dir, cfg);
  try {
    const ra = await archive.open('capped');
    const all = [];
    for (let i = 0; i < 500; i++) all.push(ra.append({ nick: 'n', xml: msgXml(i) }));
    await ra.flush();
    const newest = all.slice(-100).map((m) => m.id);
    const r = await ra.query({ max: 1000 });
    assert.is(r.count, 100);
    assert.equal(
      r.items.map((m) => m.id),
      newest,
    );
    assert.equal(
      (await ra.history(500)).map((m) => m.id),
      newest,
    );
    const before = await segCount(dir, 'capped');
    await archive.prune();
    const after = await segCount(dir, 'capped');
    assert.ok(after < before && after <= Math.ceil(100 / 32) + 1, `segments ${before} -> ${after}`);
    await archive.close();
    archive = new FileArchive(dir, cfg);
    const again = await archive.open('capped');
    assert.equal(
      (await pageAll(again, {}, 30)).items.map((m) => m.id),
      newest,
    );
  } finally {
    await archive.close();
    await cleanup();
  }
});

test.run();
