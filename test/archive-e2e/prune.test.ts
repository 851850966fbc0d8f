// Pruning as a user sees it: with a short expiry (livechat's syntax; a plain number is seconds) the server drops
// whole segments on its timer; what is older than the expiry disappears from MAM, history and disk, and nothing
// newer does. The optional per-room cap keeps only the last N messages. Real clock, no test hook.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { joinRoom, mam, mamAll, say, segmentFiles, sleep, stopAll, user, viewer, type TestClient } from './helpers.js';
import { until } from '../helpers/until.js';

const test = suite('archive e2e: pruning');

let srv: TestServer | undefined;
const clients: TestClient[] = [];

test.after.each(async () => {
  await stopAll(clients);
  await srv?.stop();
  srv = undefined;
});

test('expiry: messages older than the expiry go (segments deleted), newer ones all stay', async () => {
  const EXPIRY_S = 4;
  srv = await startTestServer({
    testMode: true,
    webchat: { enabled: false },
    archive: { expiry: String(EXPIRY_S), segmentMessages: 16, pruneIntervalSeconds: 1 },
  });
  const owner = await user(srv.wsUrl, 'owner');
  clients.push(owner);
  await joinRoom(owner, 'short', 'Owner');
  const old = Array.from({ length: 40 }, (_, i) => `old ${i}`);
  await say(owner, 'short', old);
  const oldSegments = await segmentFiles(srv.dataDir, 'short');
  assert.ok(oldSegments.length >= 3, `40 messages in segments of 16: ${oldSegments}`);
  const beforeExpiry = await mamAll(owner, 'short');
  assert.is(beforeExpiry.length, 40, 'nothing pruned before the expiry');

  await sleep(EXPIRY_S * 1000 + 500);
  const fresh = Array.from({ length: 20 }, (_, i) => `new ${i}`);
  await say(owner, 'short', fresh);
  // The prune timer (every second) deletes the segments whose messages all expired.
  // One prune pass deletes the files one after the other: wait for the pass to finish before asserting.
  await until(
    'the oldest segment to be deleted',
    async () => !(await segmentFiles(srv!.dataDir, 'short')).includes(oldSegments[0]),
    5000,
    100,
  );
  await until(
    'every all-expired segment to be deleted',
    async () => !(await segmentFiles(srv!.dataDir, 'short')).includes(oldSegments[1]),
    5000,
    100,
  );

  const guest = await viewer(srv.wsUrl);
  clients.push(guest);
  const all = await mamAll(guest, 'short');
  assert.equal(
    all.map((i) => i.body),
    fresh,
    'MAM: exactly the messages newer than the expiry',
  );
  const history = await joinRoom(guest, 'short', 'Guest', { maxstanzas: '50' });
  assert.equal(
    history.map((m) => m.getChildText('body')),
    fresh,
    'history on join: the same',
  );
});

test('per-room cap: only the newest N messages remain, older segments are deleted', async () => {
  srv = await startTestServer({
    testMode: true,
    webchat: { enabled: false },
    archive: { expiry: 'never', maxMessagesPerRoom: 30, segmentMessages: 16, pruneIntervalSeconds: 1 },
  });
  const owner = await user(srv.wsUrl, 'owner');
  clients.push(owner);
  await joinRoom(owner, 'capped', 'Owner');
  const bodies = Array.from({ length: 100 }, (_, i) => `m ${i}`);
  await say(owner, 'capped', bodies);
  const page = await mam(owner, 'capped', { max: 100 });
  assert.equal(
    page.items.map((i) => i.body),
    bodies.slice(70),
  );
  assert.is(page.count, '30');
  // 100 messages in 7 segments of 16; the last 30 are in the last 3 at most.
  await until(
    'segments beyond the cap to be deleted',
    async () => (await segmentFiles(srv!.dataDir, 'capped')).length <= 3,
    5000,
    100,
  );
  const again = await mamAll(owner, 'capped');
  assert.equal(
    again.map((i) => i.body),
    bodies.slice(70),
  );
});

test.run();
