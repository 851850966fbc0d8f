// fsync 'batch': a quiet archive writes a message at once (a live's pace leaves nothing to group, and the sender's
// reflection waits for the write), while records that follow a write within batchDelayMs wait for the delay and go
// to disk together. Either way a record is durable only once whenDurable resolves, and survives a reopen.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FileArchive } from '../../src/storage/archive.js';
import { msgXml, pageAll, tempDir } from './helpers.js';

const DELAY_MS = 1500;
const CFG = { expiry: 'never', segmentMessages: 64, hotTail: 10, batchDelayMs: DELAY_MS, fsync: 'batch' as const };

test('a quiet archive writes at once; records right after a write wait for the batch delay, together', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const archive = new FileArchive(dir, CFG);
    const ra = await archive.open('quiet@room.localhost');
    let t0 = performance.now();
    const first = ra.append({ nick: 'n', xml: msgXml(0) });
    await ra.whenDurable(first.id);
    const quietMs = performance.now() - t0;
    assert.ok(quietMs < DELAY_MS / 3, `the first message of a quiet archive took ${Math.round(quietMs)} ms`);

    // Right after that write: two more records wait for the delay and are written in one batch.
    t0 = performance.now();
    const a = ra.append({ nick: 'n', xml: msgXml(1) });
    const b = ra.append({ nick: 'n', xml: msgXml(2) });
    assert.ok(ra.isPending(a.id) && ra.isPending(b.id));
    await ra.whenDurable(a.id);
    const busyMs = performance.now() - t0;
    assert.ok(busyMs >= DELAY_MS * 0.8, `records right after a write took only ${Math.round(busyMs)} ms`);
    assert.not.ok(ra.isPending(b.id), 'the second record was not written with the first');

    await archive.close();
    const again = new FileArchive(dir, CFG);
    const { items } = await pageAll(await again.open('quiet@room.localhost'), {}, 10);
    assert.equal(
      items.map((m) => m.id),
      [first.id, a.id, b.id],
    );
    await again.close();
  } finally {
    await cleanup();
  }
});

test.run();
