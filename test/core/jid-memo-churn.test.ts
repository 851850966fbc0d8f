// The parsed-address memo (src/xmpp/jid.ts) must not gain an entry per viewer who came and went: a live stream's
// anonymous viewers each have their own JID, used for one visit. Stanzas a client sends with no 'to' (its keepalive
// answers, its account's pings and vCard) are addressed to its bare JID by the server; parsed and kept, those were one
// entry per viewer that outlived the viewer (~200 B each, up to the memo's 20,000 before it empties), found growing
// in a soak of churning viewers. The room has the moderation bot in it (welcoming each viewer), which reads every
// occupant's presence and message.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { enterRoom } from '../helpers/muc-join.js';
import { memoizedJids } from '../../src/xmpp/jid.js';

const ROOM = 'churn@room.localhost';
const VIEWERS = 48;
const AT_ONCE = 8;

let srv: TestServer;
let watcher: TestClient;

test.before(async () => {
  srv = await startTestServer({ bot: { enabled: true } });
  watcher = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  await enterRoom(watcher, `${ROOM}/watcher`);
  const rooms = join(srv.dataDir, 'bot', 'room.localhost', 'rooms');
  await mkdir(rooms, { recursive: true });
  const hello = { type: 'hello', id: 'hello', enabled: true, options: { txt: 'Welcome {{NICK}}!' } };
  const conf = { local: 'churn', domain: 'room.localhost', enabled: true, handlers: [hello] };
  await writeFile(join(rooms, 'churn.json'), JSON.stringify(conf));
  await watcher.waitFor((s) => s.is('presence') && s.attrs.from === `${ROOM}/Sepia`, 15_000, 'the bot joins');
});
test.after(async () => {
  await watcher?.stop();
  await srv?.stop();
});

/** One visit as a browser makes it: join (welcomed by the bot), ping its account, answer a keepalive, say something,
 * leave by closing the connection (as a closed tab does, no unavailable presence). */
async function visit(i: number): Promise<void> {
  const c = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  try {
    const self = await enterRoom(c, `${ROOM}/viewer${i}`);
    assert.is(self.attrs.type, undefined, `viewer ${i} seated`);
    await c.waitFor((s) => s.getChildText('body') === `Welcome viewer${i}!`, 15_000, `the bot's welcome to ${i}`);
    const pong = await c.iq(xml('iq', { type: 'get' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 15_000);
    assert.is(pong.attrs.type, 'result', `viewer ${i}'s ping to its own account answered`);
    // what a client sends back to the server's keepalive ping: a result with no 'to'
    await c.send(xml('iq', { type: 'result', id: `keepalive-${i}` }));
    const body = `hello from ${i}`;
    await c.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, body)));
    await watcher.waitFor((s) => s.getChildText('body') === body, 15_000, `viewer ${i}'s message`);
  } finally {
    await c.stop();
  }
}

test('viewers who join, send IQs with no address, chat and leave add nothing per viewer to the JID memo', async () => {
  await visit(0); // the room's own addresses are memoized once, by the first visit
  const before = memoizedJids();
  for (let i = 1; i <= VIEWERS; i += AT_ONCE) {
    await Promise.all(Array.from({ length: AT_ONCE }, (_, k) => visit(i + k)));
  }
  const added = memoizedJids() - before;
  assert.ok(added <= 4, `${VIEWERS} viewers came and went; the memo gained ${added} entries (wanted a few at most)`);
  // the server still serves: a new viewer is seated and heard
  await visit(VIEWERS + 1);
});

test.run();
