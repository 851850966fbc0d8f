// Crash safety: a torn last record is cut off on open, and a process killed with SIGKILL in the middle of a
// storm of appends loses no message whose durability was acknowledged.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { appendFile, readdir, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileArchive } from '../../src/storage/archive.js';
import { msgXml, pageAll, tempDir } from './helpers.js';

const CFG = { expiry: 'never', segmentMessages: 64, hotTail: 10, batchDelayMs: 5 };

async function lastSegment(dir: string, room: string): Promise<string> {
  const d = join(dir, 'archive', room);
  const segs = (await readdir(d)).filter((f) => f.endsWith('.seg')).sort();
  return join(d, segs[segs.length - 1]);
}

async function writeRoom(dir: string, room: string, n: number): Promise<string[]> {
  const archive = new FileArchive(dir, CFG);
  const ra = await archive.open(room);
  const ids = [];
  for (let i = 0; i < n; i++) ids.push(ra.append({ nick: 'n', xml: msgXml(i) }).id);
  await archive.close();
  return ids;
}

test('garbage after the last record is cut off; everything before is intact and appends go on', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const ids = await writeRoom(dir, 'torn', 100);
    const seg = await lastSegment(dir, 'torn');
    const before = (await stat(seg)).size;
    // A record header promising more bytes than were written, then random junk: a write cut by a power failure.
    const junk = Buffer.alloc(40);
    junk.writeUInt32LE(500, 0);
    junk.fill(0xab, 8);
    await appendFile(seg, junk);
    const warnings: string[] = [];
    let archive = new FileArchive(dir, CFG, { log: (_l, m) => warnings.push(m) });
    let ra = await archive.open('torn');
    assert.ok(
      warnings.some((w) => w.includes('torn tail')),
      'the cut is logged',
    );
    assert.is((await stat(seg)).size, before, 'file cut back to the last whole record');
    assert.equal(
      (await pageAll(ra, {}, 30)).items.map((m) => m.id),
      ids,
    );
    const more = ra.append({ nick: 'after', xml: msgXml(100) });
    await archive.close();
    archive = new FileArchive(dir, CFG);
    ra = await archive.open('torn');
    const all = (await pageAll(ra, {}, 30)).items.map((m) => m.id);
    assert.equal(all, [...ids, more.id]);
    await archive.close();
  } finally {
    await cleanup();
  }
});

test('a record cut in the middle (and a zero-filled tail) is detected by its checksum/length', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const ids = await writeRoom(dir, 'cut', 70);
    const seg = await lastSegment(dir, 'cut');
    const size = (await stat(seg)).size;
    await truncate(seg, size - 7); // last record loses its end
    await appendFile(seg, Buffer.alloc(4096)); // filesystem left zeros after it
    const archive = new FileArchive(dir, CFG, { log: () => undefined });
    const ra = await archive.open('cut');
    const got = (await pageAll(ra, {}, 50)).items.map((m) => m.id);
    assert.equal(got, ids.slice(0, -1));
    const next = ra.append({ nick: 'n', xml: msgXml(99) });
    assert.is(next.seq, 69, "the lost record's position is taken by the next append");
    await archive.close();
  } finally {
    await cleanup();
  }
});

test('SIGKILL during a storm of appends loses no acknowledged message', async () => {
  const { dir, cleanup } = await tempDir();
  const fixture = fileURLToPath(new URL('./fixtures/storm.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir, 'batch'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const acked: Array<[string, string]> = [];
    let buf = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${acked.length} acks before timeout`)), 30_000);
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const [room, id] = line.split(' ');
          if (id) acked.push([room, id]);
        }
        if (acked.length >= 5000 && child.exitCode === null && !child.killed) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    assert.is(child.signalCode, 'SIGKILL', 'the child was killed mid-storm');
    // Lines that arrived after the kill decision are acks too.
    const archive = new FileArchive(dir, { expiry: 'never', segmentMessages: 500 }, { log: () => undefined });
    for (const room of ['storm-a', 'storm-b']) {
      const ra = await archive.open(room);
      const stored = new Set((await pageAll(ra, {}, 1000)).items.map((m) => m.id));
      const mine = acked.filter(([r]) => r === room).map(([, id]) => id);
      assert.ok(mine.length > 1000, `${room}: enough acks (${mine.length})`);
      const lost = mine.filter((id) => !stored.has(id));
      assert.equal(lost, [], `${room}: acknowledged but lost`);
      assert.ok(ra.stats().segments > 2, 'the storm crossed segments');
    }
    await archive.close();
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await cleanup();
  }
});

test.run();
