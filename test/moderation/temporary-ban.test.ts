// Temporary bans with @xmpp/client: a muc#admin ban carrying an expiry is lifted by the room on time, also across
// a restart; a plain ban stays.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ADMIN,
  ServerPerTest,
  HOST,
  codes,
  tryJoin,
  configure,
  errCond,
  joinRoom,
  xml,
  type TestClient,
} from './room-client.js';

const NS = 'urn:livechat-xmpp:muc-temporary-ban:0';
const fx = new ServerPerTest(test);
const clients = fx.clients;

const ban = (c: TestClient, jid: string, seconds?: number) =>
  c.iq(
    xml(
      'iq',
      { type: 'set', to: `live@${HOST}` },
      xml(
        'query',
        { xmlns: ADMIN },
        xml(
          'item',
          { jid, affiliation: 'outcast' },
          xml('reason', {}, 'cool down'),
          seconds !== undefined ? xml('expires', { xmlns: NS, seconds: String(seconds) }) : undefined,
        ),
      ),
    ),
  );

test('a ban with an expiry: 301, rejoin refused, listed with its end, lifted on time', async () => {
  const owner = await clients.user('owner');
  const troll = await clients.user('troll');
  await joinRoom(owner, 'live', 'Owner');
  await joinRoom(troll, 'live', 'Troll');
  await ban(owner, 'troll@localhost', 2);
  const gone = await troll.waitFor(
    (s) => s.is('presence') && s.attrs.type === 'unavailable' && codes(s).includes('301'),
    5000,
    '301',
  );
  assert.ok(gone);
  assert.is(errCond(await tryJoin(troll, `live@${HOST}`, 'Troll')), 'forbidden');
  const list = await owner.iq(
    xml(
      'iq',
      { type: 'get', to: `live@${HOST}` },
      xml('query', { xmlns: ADMIN }, xml('item', { affiliation: 'outcast' })),
    ),
  );
  const item = list.getChild('query', ADMIN).getChild('item');
  assert.is(item.attrs.jid, 'troll@localhost');
  const until = Date.parse(item.getChild('expires', NS).attrs.until);
  assert.ok(Math.abs(until - (Date.now() + 2000)) < 3000, 'expiry in about 2 s');
  // The owner sees the lift as an affiliation change of a non-occupant.
  await owner.waitFor(
    (s) =>
      s.is('message') &&
      s.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChild('item')?.attrs.jid === 'troll@localhost' &&
      s.getChild('x', 'http://jabber.org/protocol/muc#user').getChild('item').attrs.affiliation === 'none',
    10000,
    'ban lifted',
  );
  const back = await tryJoin(troll, `live@${HOST}`, 'Troll');
  assert.is(back.attrs.type, undefined, 'rejoins after expiry');
});

test('an expiry that passed while the server was down is applied at start; a plain ban stays', async () => {
  const owner = await clients.user('owner');
  await joinRoom(owner, 'live', 'Owner');
  await configure(owner, 'live', { 'muc#roomconfig_persistentroom': '1' });
  await ban(owner, 'troll@localhost', 1);
  await ban(owner, 'spammer@localhost');
  await fx.restart(() => new Promise((r) => setTimeout(r, 1500))); // the server is down past the expiry
  const troll = await clients.user('troll');
  const spammer = await clients.user('spammer');
  assert.is((await tryJoin(troll, `live@${HOST}`, 'Troll')).attrs.type, undefined, 'expired ban lifted at start');
  assert.is(errCond(await tryJoin(spammer, `live@${HOST}`, 'Spammer')), 'forbidden');
});

test.run();
