// Ban by address for anonymous viewers, with @xmpp/client over WebSocket from two loopback addresses: the named
// viewer and every other anonymous viewer on its address leave (301) and cannot come back; other addresses and
// accounts are untouched; the list never shows an address; unban restores access.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ServerPerTest,
  HOST,
  tryJoin,
  codes,
  errCond,
  expectError,
  joinRoom,
  setAffiliation,
  xml,
  type TestClient,
} from './room-client.js';

const NS = 'urn:livechat-xmpp:muc-ip-ban:0';
const fx = new ServerPerTest(test);
const clients = fx.clients;

const room = `live@${HOST}`;
const was301 = (c: TestClient) =>
  c.received.some(
    (s) => s.is('presence') && s.attrs.type === 'unavailable' && codes(s).includes('301') && codes(s).includes('110'),
  );

test('ban by address: same-address anonymous viewers go, others stay, list without addresses, unban', async () => {
  const owner = await clients.user('owner');
  const alice = await clients.user('alice');
  await joinRoom(owner, 'live', 'Owner');
  await joinRoom(alice, 'live', 'Alice');
  const v1 = await clients.viewerFrom('127.0.0.1');
  const v2 = await clients.viewerFrom('127.0.0.1');
  const v3 = await clients.viewerFrom('127.0.0.2');
  await joinRoom(v1, 'live', 'V1');
  await joinRoom(v2, 'live', 'V2');
  await joinRoom(v3, 'live', 'V3');

  await expectError(
    alice.iq(xml('iq', { type: 'set', to: room }, xml('ban-ip', { xmlns: NS, nick: 'V1' }))),
    'forbidden',
  );
  await setAffiliation(owner, 'live', 'alice@localhost', 'admin');
  await expectError(
    alice.iq(xml('iq', { type: 'set', to: room }, xml('ban-ip', { xmlns: NS, nick: 'Owner' }))),
    'not-allowed',
  );

  await alice.iq(
    xml('iq', { type: 'set', to: room }, xml('ban-ip', { xmlns: NS, nick: 'V1' }, xml('reason', {}, 'raid'))),
  );
  await v1.waitFor(() => was301(v1), 5000, 'V1 banned');
  await v2.waitFor(() => was301(v2), 5000, 'V2 on the same address banned');
  await owner.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  assert.not.ok(was301(v3), 'other address untouched');

  const again = await clients.viewerFrom('127.0.0.1');
  assert.is(errCond(await tryJoin(again, `live@${HOST}`, 'Again')), 'forbidden');
  const other = await clients.viewerFrom('127.0.0.2');
  assert.is((await tryJoin(other, `live@${HOST}`, 'Other')).attrs.type, undefined);

  const list = await owner.iq(xml('iq', { type: 'get', to: room }, xml('ip-bans', { xmlns: NS })));
  const bans = list.getChild('ip-bans', NS).getChildren('ban');
  assert.is(bans.length, 1);
  assert.is(bans[0].attrs.nick, 'V1');
  assert.is(bans[0].getChildText('reason'), 'raid');
  assert.not.match(list.toString(), /127\.0\.0\.1/, 'no address in the list');

  await owner.iq(xml('iq', { type: 'set', to: room }, xml('unban-ip', { xmlns: NS, id: bans[0].attrs.id })));
  const later = await clients.viewerFrom('127.0.0.1');
  assert.is((await tryJoin(later, `live@${HOST}`, 'Later')).attrs.type, undefined, 'joins after unban');
});

test.run();
