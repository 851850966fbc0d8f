// After a restart the MUC service starts without waiting for stored rooms' archives: a room's stanzas wait in its
// queue until its archive is open (asked for at once when the room has traffic), then are handled in order.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { Router } from '../../src/xmpp/router.js';
import { IqRegistry } from '../../src/xmpp/iq-registry.js';
import { silentLogger } from '../../src/log.js';
import { createMucService } from '../../src/muc/service.js';
import { defaultMucConfig } from '../../src/muc/config.js';
import type { RoomArchive } from '../../src/muc/archive.js';
import { FakeSession, HOST, join, tick } from './helpers.js';

function fakeArchive() {
  const warmed: string[] = [];
  const release = new Map<string, () => void>();
  const archive: RoomArchive = {
    append: () => 'id',
    tail: () => [],
    get: () => undefined,
    retract: () => false,
    dropRoom: () => {},
    warm(jid) {
      warmed.push(jid);
      return new Promise<void>((r) => release.set(jid, r));
    },
  };
  return { archive, warmed, release };
}

test('start() does not wait for archives; a join waits for its room archive, which is opened first', async () => {
  const dataDir = await mkdtemp(pathJoin(tmpdir(), 'muc-lazy-'));
  try {
    const config = { ...defaultMucConfig('localhost'), host: HOST };
    // A first run stores ten persistent rooms.
    const first = createMucService({
      router: new Router(new IqRegistry(), silentLogger),
      log: silentLogger,
      config,
      dataDir,
    });
    await first.start();
    for (let i = 0; i < 10; i++) first.createRoom(`stored${i}`, { config: { persistent: true } });
    await first.stop();

    const router = new Router(new IqRegistry(), silentLogger);
    router.addUserHost('anon.localhost');
    const { archive, warmed, release } = fakeArchive();
    const muc = createMucService({ router, log: silentLogger, config, dataDir, archive });
    await muc.start(); // resolves although no archive has finished opening
    assert.ok(warmed.length <= 2, `opened two at a time, not all at once (${warmed.length})`);

    const viewer = new FakeSession('viewer@anon.localhost/1', router);
    router.bind(viewer);
    join(viewer, 'stored9', 'viewer');
    await tick();
    assert.ok(warmed.includes(`stored9@${HOST}`), 'the room with traffic is opened at once');
    assert.is(viewer.received.length, 0, 'the join waits for the archive');

    release.get(`stored9@${HOST}`)!();
    await tick();
    await tick();
    const self = viewer.received.find((s) => s.is('presence') && s.attrs.from === `stored9@${HOST}/viewer`);
    assert.ok(self, 'the queued join is handled once the archive is open');

    // The others are opened in the background, two at a time.
    for (let i = 0; i < 30 && warmed.length < 10; i++) {
      for (const [jid, r] of release) {
        r();
        release.delete(jid);
      }
      await tick();
    }
    assert.is(new Set(warmed).size, 10);
    await muc.stop();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test.run();
