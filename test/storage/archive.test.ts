// The file archive: appends, tail, paging across segments, time ranges, sender filters, restart, retraction.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FileArchive, encodeRoomDir } from '../../src/storage/archive.js';
import { ArchiveItemNotFoundError } from '../../src/storage/types.js';
import { msgXml, pageAll, tempDir } from './helpers.js';

const T0 = Date.UTC(2030, 0, 1);
const CFG = { expiry: 'never', segmentMessages: 64, hotTail: 20, batchDelayMs: 5 };

async function fill(archive: FileArchive, room: string, n: number, start = 0) {
  const ra = await archive.open(room);
  const out = [];
  for (let i = start; i < start + n; i++) {
    out.push(
      ra.append({
        ts: T0 + i * 1000,
        nick: `user${i % 5}`,
        occupantId: `occ${i % 5}`,
        realJid: `u${i % 5}@example.org/res`,
        xml: msgXml(i),
      }),
    );
  }
  await ra.flush();
  return { ra, out };
}

test('append is synchronous, ids are unique and the tail is in memory at once', async () => {
  const { dir, cleanup } = await tempDir();
  const archive = new FileArchive(dir, CFG);
  try {
    const ra = await archive.open('lobby');
    const a = ra.append({ nick: 'alice', xml: msgXml(1, 'alice') });
    const b = ra.append({ nick: 'bob', xml: msgXml(2, 'bob') });
    assert.is.not(a.id, b.id);
    assert.ok(b.ts >= a.ts);
    assert.equal(
      ra.tail(10).map((m) => m.nick),
      ['alice', 'bob'],
    );
    assert.equal(
      (await ra.history(1)).map((m) => m.nick),
      ['bob'],
    );
    await ra.whenDurable(b.id);
    const files = await readdir(join(dir, 'archive', 'lobby'));
    assert.ok(
      files.some((f) => f.endsWith('.seg')),
      'a segment file exists once durable',
    );
  } finally {
    await archive.close();
    await cleanup();
  }
});

test('500 messages over several segments: page forward and backward, after a restart (cold)', async () => {
  const { dir, cleanup } = await tempDir();
  let archive = new FileArchive(dir, CFG);
  try {
    const { out } = await fill(archive, 'big', 500);
    await archive.close();
    const segs = (await readdir(join(dir, 'archive', 'big'))).filter((f) => f.endsWith('.seg'));
    assert.ok(segs.length >= 7, `expected several segments, got ${segs.length}`);

    archive = new FileArchive(dir, CFG);
    const ra = await archive.open('big');
    assert.is(ra.stats().tail, 20, 'only the configured tail is warmed');
    const ids = out.map((m) => m.id);

    const fwd = await pageAll(ra, {}, 37);
    assert.equal(
      fwd.items.map((m) => m.id),
      ids,
    );
    assert.is(fwd.pages, Math.ceil(500 / 37));
    assert.equal(
      fwd.completes.slice(0, -1).every((c) => !c),
      true,
    );
    assert.is(fwd.completes[fwd.completes.length - 1], true);
    assert.equal(
      fwd.items.map((m) => m.xml),
      out.map((m) => m.xml),
    );

    const back = await pageAll(ra, {}, 37, true);
    assert.equal(
      back.items.map((m) => m.id),
      ids,
    );

    const first = await ra.query({ max: 10 });
    assert.is(first.count, 500);
    assert.is(first.index, 0);
    assert.is(first.complete, false);
    const last = await ra.query({ max: 10, before: '' });
    assert.equal(
      last.items.map((m) => m.id),
      ids.slice(-10),
    );
    assert.is(last.index, 490);
    const mid = await ra.query({ max: 5, index: 250 });
    assert.equal(
      mid.items.map((m) => m.id),
      ids.slice(250, 255),
    );
    const countOnly = await ra.query({ max: 0 });
    assert.is(countOnly.count, 500);
    assert.is(countOnly.items.length, 0);
  } finally {
    await archive.close();
    await cleanup();
  }
});

test('time ranges, before-id/after-id, ids and unknown ids', async () => {
  const { dir, cleanup } = await tempDir();
  const archive = new FileArchive(dir, CFG);
  try {
    const { ra, out } = await fill(archive, 'times', 300);
    const ids = out.map((m) => m.id);
    const r = await ra.query({ start: T0 + 100_000, end: T0 + 199_000, max: 1000 });
    assert.equal(
      r.items.map((m) => m.id),
      ids.slice(100, 200),
    );
    assert.is(r.count, 100);
    assert.is(r.complete, true);
    // Bounds between two messages; end inclusive, start inclusive.
    const r2 = await ra.query({ start: T0 + 100_500, end: T0 + 103_000, max: 1000 });
    assert.equal(
      r2.items.map((m) => m.id),
      ids.slice(101, 104),
    );
    // Paged time range, backward.
    const back = await pageAll(ra, { start: T0 + 50_000, end: T0 + 250_000 }, 16, true);
    assert.equal(
      back.items.map((m) => m.id),
      ids.slice(50, 251),
    );
    // after-id / before-id are exclusive.
    const between = await ra.query({ afterId: ids[10], beforeId: ids[20], max: 100 });
    assert.equal(
      between.items.map((m) => m.id),
      ids.slice(11, 20),
    );
    const picked = await ra.query({ ids: [ids[250], ids[3], ids[77]], max: 10 });
    assert.equal(
      picked.items.map((m) => m.id),
      [ids[3], ids[77], ids[250]],
    );
    // Nothing in range.
    const none = await ra.query({ start: T0 + 10_000_000, max: 10 });
    assert.is(none.items.length, 0);
    assert.is(none.complete, true);
    // A forged id: the real one with its last character changed (to a character it does not already end with).
    const forged = ids[5].slice(0, -1) + (ids[5].endsWith('x') ? 'y' : 'x');
    for (const bad of [
      { after: 'nope' },
      { afterId: forged },
      { ids: ['zz-AAAAAAAAAA'] },
      { before: '99999-AAAAAAAAAA' },
    ]) {
      try {
        await ra.query({ max: 10, ...bad });
        assert.unreachable(`accepted ${JSON.stringify(bad)}`);
      } catch (err) {
        assert.instance(err, ArchiveItemNotFoundError);
      }
    }
  } finally {
    await archive.close();
    await cleanup();
  }
});

test('with filter by nick, occupant-id, bare and full real JID, paged both ways', async () => {
  const { dir, cleanup } = await tempDir();
  const archive = new FileArchive(dir, CFG);
  try {
    const { ra, out } = await fill(archive, 'filter', 400);
    const want = out.filter((m) => m.nick === 'user3').map((m) => m.id);
    assert.equal(
      (await pageAll(ra, { with: { nick: 'user3' } }, 7)).items.map((m) => m.id),
      want,
    );
    assert.equal(
      (await pageAll(ra, { with: { occupantId: 'occ3' } }, 7, true)).items.map((m) => m.id),
      want,
    );
    assert.equal(
      (await pageAll(ra, { with: { realJid: 'U3@example.org' } }, 50)).items.map((m) => m.id),
      want,
    );
    assert.equal(
      (await pageAll(ra, { with: { realJid: 'u3@example.org/res' } }, 50)).items.map((m) => m.id),
      want,
    );
    assert.is((await ra.query({ with: { realJid: 'u3@example.org/other' }, max: 10 })).items.length, 0);
    // Either criterion matches (livechat's search by occupant JID or occupant-id).
    const either = await pageAll(ra, { with: { nick: 'user1', occupantId: 'occ2' } }, 33);
    assert.equal(
      either.items.map((m) => m.id),
      out.filter((m) => m.nick === 'user1' || m.nick === 'user2').map((m) => m.id),
    );
    // Combined with a time range.
    const ranged = await ra.query({ with: { nick: 'user0' }, start: T0 + 100_000, end: T0 + 120_000, max: 100 });
    assert.equal(
      ranged.items.map((m) => m.seq),
      [100, 105, 110, 115, 120],
    );
  } finally {
    await archive.close();
    await cleanup();
  }
});

test('restart keeps everything and continues without reusing ids', async () => {
  const { dir, cleanup } = await tempDir();
  let archive = new FileArchive(dir, CFG);
  try {
    const { out } = await fill(archive, 'persist', 200);
    await archive.close();
    archive = new FileArchive(dir, CFG);
    const ra = await archive.open('persist');
    const all = await pageAll(ra, {}, 100);
    assert.equal(
      all.items.map((m) => m.id),
      out.map((m) => m.id),
    );
    assert.equal(
      all.items.map((m) => m.realJid),
      out.map((m) => m.realJid),
    );
    assert.equal(
      ra.tail(3).map((m) => m.id),
      out.slice(-3).map((m) => m.id),
    );
    const next = ra.append({ nick: 'late', xml: msgXml(999, 'late') });
    assert.not.ok(out.some((m) => m.id === next.id));
    assert.is(next.seq, 200);
  } finally {
    await archive.close();
    await cleanup();
  }
});

test('retraction replaces the body by a tombstone, in memory and after a restart', async () => {
  const { dir, cleanup } = await tempDir();
  let archive = new FileArchive(dir, CFG);
  try {
    const { ra, out } = await fill(archive, 'retract', 150);
    const tomb = (i: number) =>
      `<message xmlns="jabber:client" type="groupchat" id="m${i}"><retracted xmlns="urn:xmpp:message-retract:1"/></message>`;
    assert.ok(await ra.retract(out[5].id, tomb(5)), 'deep (on disk) message');
    assert.ok(await ra.retract(out[149].id, tomb(149)), 'hot message');
    assert.not.ok(await ra.retract('1-AAAAAAAAAA', tomb(0)), 'unknown id');
    assert.is(ra.tail(1)[0].xml, tomb(149));
    const deep = await ra.query({ ids: [out[5].id], max: 1 });
    assert.is(deep.items[0].xml, tomb(5));
    assert.is(deep.items[0].retracted, true);
    assert.is(deep.items[0].ts, out[5].ts);
    await archive.close();
    archive = new FileArchive(dir, CFG);
    const again = await archive.open('retract');
    const all = (await pageAll(again, {}, 200)).items;
    assert.is(all.length, 150);
    assert.is(all[5].xml, tomb(5));
    assert.is(all[149].xml, tomb(149));
    assert.is(all[6].xml, out[6].xml);
    assert.is(all[5].id, out[5].id);
  } finally {
    await archive.close();
    await cleanup();
  }
});

test('a room that fell out of the hot-room cache still serves complete history', async () => {
  const { dir, cleanup } = await tempDir();
  const archive = new FileArchive(dir, { ...CFG, hotRooms: 1 });
  try {
    const { ra: a, out } = await fill(archive, 'a', 100);
    await fill(archive, 'b', 10);
    assert.ok(a.stats().tail < 20, 'room a was cooled');
    const h = await a.history(20);
    assert.equal(
      h.map((m) => m.id),
      out.slice(-20).map((m) => m.id),
    );
    assert.is(a.tail(20).length, 20, 'and is hot again');
  } finally {
    await archive.close();
    await cleanup();
  }
});

test('room names cannot escape the archive folder; deleteRoom removes everything', async () => {
  const { dir, cleanup } = await tempDir();
  const archive = new FileArchive(dir, CFG);
  try {
    assert.is(encodeRoomDir('..'), '%2E%2E');
    assert.is(encodeRoomDir('a/b'), 'a%2Fb');
    await fill(archive, '../evil', 3);
    assert.equal(await archive.listRooms(), ['../evil']);
    await archive.deleteRoom('../evil');
    assert.equal(await archive.listRooms(), []);
    const fresh = await archive.open('../evil');
    assert.is(fresh.stats().messages, 0);
  } finally {
    await archive.close();
    await cleanup();
  }
});

test.run();
