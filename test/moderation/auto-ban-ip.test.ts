// livechat's auto-ban-anonymous-ip (muc.autoBanAnonymousIpSeconds): an owner bans an anonymous viewer by JID the
// usual way (muc#admin outcast) and, with the setting on, a new anonymous login from the same address cannot join
// the room for a while; other addresses and accounts are not affected; off, the new login joins. @xmpp/client over
// WebSocket from 127.0.0.1 and 127.0.0.2.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  Clients,
  HOST,
  tryJoin,
  codes,
  errCond,
  joinRoom,
  setAffiliation,
  xml,
  type TestClient,
} from './room-client.js';

const NS = 'urn:livechat-xmpp:muc-ip-ban:0';
const ROOM = `live@${HOST}`;
let srv: TestServer;
const clients = new Clients(() => srv);
test.after.each(async () => {
  await clients.stopAll();
  await srv?.stop();
});

/** Owner and a viewer from 127.0.0.1 in the room; the owner bans the viewer's JID. */
async function banViewer(): Promise<{ owner: TestClient; troll: TestClient }> {
  const owner = await clients.user('owner');
  await joinRoom(owner, 'live', 'Owner');
  const troll = await clients.viewerFrom('127.0.0.1');
  await joinRoom(troll, 'live', 'Troll');
  await setAffiliation(owner, 'live', troll.jid.split('/')[0], 'outcast');
  await troll.waitFor(
    (s) => s.is('presence') && s.attrs.type === 'unavailable' && codes(s).includes('301'),
    10000,
    'troll banned',
  );
  return { owner, troll };
}

test("on: the banned viewer's address cannot come back under a new anonymous JID; the ban expires on its own", async () => {
  srv = await startTestServer({ testMode: true, muc: { autoBanAnonymousIpSeconds: 3600 } });
  const { owner } = await banViewer();
  assert.is(
    errCond(await tryJoin(await clients.viewerFrom('127.0.0.1'), ROOM, 'Troll2')),
    'forbidden',
    'same address, new JID: refused',
  );
  assert.is(
    (await tryJoin(await clients.viewerFrom('127.0.0.2'), ROOM, 'Other')).attrs.type,
    undefined,
    'another address joins',
  );
  const alice = await clients.user('alice');
  assert.is((await tryJoin(alice, ROOM, 'Alice')).attrs.type, undefined, 'accounts are never banned by address');
  const list = await owner.iq(xml('iq', { type: 'get', to: ROOM }, xml('ip-bans', { xmlns: NS })));
  const bans = list.getChild('ip-bans', NS).getChildren('ban');
  assert.is(bans.length, 1);
  assert.is(bans[0].attrs.nick, 'Troll');
  const until = Date.parse(bans[0].attrs.until);
  assert.ok(
    until > Date.now() + 3500_000 && until <= Date.now() + 3600_000,
    `ends in an hour (${bans[0].attrs.until})`,
  );
  // An owner may lift it early, like any ban by address.
  await owner.iq(xml('iq', { type: 'set', to: ROOM }, xml('unban-ip', { xmlns: NS, id: bans[0].attrs.id })));
  assert.is(
    (await tryJoin(await clients.viewerFrom('127.0.0.1'), ROOM, 'Back')).attrs.type,
    undefined,
    'joins after unban',
  );
});

test('expired: an automatic ban stops applying after its time', async () => {
  srv = await startTestServer({ testMode: true, muc: { autoBanAnonymousIpSeconds: 1 } });
  await banViewer();
  const t0 = Date.now();
  assert.is(errCond(await tryJoin(await clients.viewerFrom('127.0.0.1'), ROOM, 'Soon')), 'forbidden');
  // Wait until the second has passed (measured, not guessed), then try again.
  while (Date.now() - t0 < 1100) await new Promise((r) => setTimeout(r, 100));
  assert.is(
    (await tryJoin(await clients.viewerFrom('127.0.0.1'), ROOM, 'Later')).attrs.type,
    undefined,
    'joins once the ban has expired',
  );
});

test('off (default): banning the viewer bans only its JID', async () => {
  srv = await startTestServer({ testMode: true });
  await banViewer();
  assert.is(
    (await tryJoin(await clients.viewerFrom('127.0.0.1'), ROOM, 'Troll2')).attrs.type,
    undefined,
    'same address, new JID: joins',
  );
});

test.run();
