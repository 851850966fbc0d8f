// Restarts over a real client: the archive survives a clean restart (history on join and MAM), a torn last record
// (power cut mid-write) is cut off at start with everything before it intact, and a moderator can retract a
// message that is no longer in memory; the tombstone survives the next restart.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { encodeRoomDir } from '../../src/storage/archive.js';
import { encodeMessage } from '../../src/storage/record.js';
import {
  HOST,
  configure,
  joinRoom,
  mam,
  mamAll,
  say,
  segmentFiles,
  stopAll,
  user,
  viewer,
  xml,
  type TestClient,
} from './helpers.js';

const test = suite('archive e2e: restart, torn tail, old retractions');

// The web chat page is off: its start-up brotli compression fills libuv's thread pool for seconds.
const CONFIG = {
  testMode: true,
  webchat: { enabled: false },
  archive: { segmentMessages: 50, hotTail: 20, expiry: 'never' },
};
let dataDir: string;
let srv: TestServer | undefined;
const clients: TestClient[] = [];

async function start(): Promise<TestServer> {
  srv = await startTestServer(CONFIG, { dataDir });
  return srv;
}
async function stop(): Promise<void> {
  await stopAll(clients);
  await srv?.stop(true);
  srv = undefined;
}
async function connect(name?: string): Promise<TestClient> {
  const c = name ? await user(srv!.wsUrl, name) : await viewer(srv!.wsUrl);
  clients.push(c);
  return c;
}

test.before.each(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'archive-e2e-'));
});
test.after.each(async () => {
  await stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** A persistent room with `n` messages from its owner; returns bodies and ids. */
async function seed(room: string, n: number): Promise<{ bodies: string[]; ids: string[] }> {
  const owner = await connect('owner');
  await joinRoom(owner, room, 'Owner');
  await configure(owner, room, { 'muc#roomconfig_persistentroom': '1' });
  const bodies = Array.from({ length: n }, (_, i) => `${room} ${i}`);
  const ids = await say(owner, room, bodies);
  return { bodies, ids };
}

test('a restart keeps every message: MAM and history on join', async () => {
  await start();
  const { bodies, ids } = await seed('keep', 120);
  await stop();

  await start();
  const guest = await connect();
  const history = await joinRoom(guest, 'keep', 'Guest', { maxstanzas: '15' });
  assert.equal(
    history.map((m) => m.getChildText('body')),
    bodies.slice(-15),
  );
  assert.is(history[14].getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id, ids[119], 'history keeps the stanza-id');
  const all = await mamAll(guest, 'keep', 50);
  assert.equal(
    all.map((i) => i.body),
    bodies,
  );
  assert.equal(
    all.map((i) => i.id),
    ids,
  );
  // New messages continue the same archive after the restart.
  const owner = await connect('owner');
  await joinRoom(owner, 'keep', 'Owner');
  const [newId] = await say(owner, 'keep', ['after restart']);
  const last = await mam(guest, 'keep', { max: 2, before: '' });
  assert.equal(
    last.items.map((i) => i.body),
    ['keep 119', 'after restart'],
  );
  assert.is(last.items[1].id, newId);
  assert.not.ok(ids.includes(newId), 'ids are never reused');
});

test('a torn last record (power cut mid-write) is cut off; everything before it is intact', async () => {
  await start();
  const { bodies } = await seed('torn', 75);
  await stop();

  // A partial record at the end of the active (last) segment, as a write interrupted by a power cut leaves it.
  const segs = await segmentFiles(dataDir, 'torn');
  assert.ok(segs.length >= 2);
  const lastSeg = join(dataDir, 'archive', encodeRoomDir(`torn@${HOST}`), segs[segs.length - 1]);
  const sizeBefore = (await stat(lastSeg)).size;
  const next = encodeMessage({
    seq: 75,
    ts: Date.now(),
    id: 'torn',
    nick: 'Owner',
    xml: `<message xmlns="jabber:client" type="groupchat"><body>never confirmed</body></message>`,
  });
  await appendFile(lastSeg, next.subarray(0, Math.floor(next.length * 0.6)));

  await start();
  // The room's archive is opened (and repaired) after start, at the latest when the room is first used.
  const guest = await connect();
  const history = await joinRoom(guest, 'torn', 'Guest', { maxstanzas: '5' });
  assert.is((await stat(lastSeg)).size, sizeBefore, 'the torn bytes were cut off once the room was opened');
  assert.equal(
    history.map((m) => m.getChildText('body')),
    bodies.slice(-5),
  );
  const all = await mamAll(guest, 'torn', 40);
  assert.equal(
    all.map((i) => i.body),
    bodies,
  );
  // Appending continues cleanly after the cut, and survives another restart.
  const owner = await connect('owner');
  await joinRoom(owner, 'torn', 'Owner');
  await say(owner, 'torn', ['after repair']);
  await stop();
  await start();
  const again = await mamAll(await connect(), 'torn', 100);
  assert.equal(
    again.map((i) => i.body),
    [...bodies, 'after repair'],
  );
});

test('a moderator retracts a message that is only on disk; the tombstone replaces it in MAM and history, across restarts', async () => {
  await start();
  const { bodies, ids } = await seed('mod', 100);
  await stop();

  await start();
  const owner = await connect('owner');
  await joinRoom(owner, 'mod', 'Owner');
  // Message 3 is far older than the hot tail (20): the room answers from the archive on disk.
  const res = await owner.iq(
    xml(
      'iq',
      { type: 'set', to: `mod@${HOST}` },
      xml(
        'moderate',
        { xmlns: 'urn:xmpp:message-moderate:1', id: ids[3] },
        xml('retract', { xmlns: 'urn:xmpp:message-retract:1' }),
        xml('reason', {}, 'spam'),
      ),
    ),
  );
  assert.is(res.attrs.type, 'result');
  await owner.waitFor(
    (s) => s.is('message') && s.getChild('retract', 'urn:xmpp:message-retract:1')?.attrs.id === ids[3],
    5000,
    'retraction announcement',
  );
  const check = async (c: TestClient) => {
    const page = await mam(c, 'mod', { max: 3, after: ids[2] });
    assert.equal(
      page.items.map((i) => i.id),
      ids.slice(3, 6),
    );
    const t = page.items[0];
    assert.is(t.body, undefined, 'the retracted text is gone');
    assert.ok(t.message.getChild('retracted', 'urn:xmpp:message-retract:1'), 'tombstone');
    assert.is(page.items[1].body, bodies[4]);
  };
  await check(owner);
  // Unknown ids are still refused.
  try {
    await owner.iq(
      xml(
        'iq',
        { type: 'set', to: `mod@${HOST}` },
        xml(
          'moderate',
          { xmlns: 'urn:xmpp:message-moderate:1', id: 'no-such-id' },
          xml('retract', { xmlns: 'urn:xmpp:message-retract:1' }),
        ),
      ),
    );
    assert.unreachable('unknown id');
  } catch (err) {
    assert.is((err as { condition?: string }).condition, 'item-not-found');
  }
  await stop();
  await start();
  await check(await connect());
});

test.run();
