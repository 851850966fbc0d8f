// A temporary ban of an anonymous viewer with auto-ban-anonymous-ip on (muc.autoBanAnonymousIpSeconds): the
// viewer's address is kept out for the ban's own time, not the setting's, so reloading the page (a new anonymous
// JID) does not get around a "ban for 10 min", and the viewer is back when the ban ends. @xmpp/client over
// WebSocket from 127.0.0.1 (the banned viewer) and 127.0.0.2 (someone else).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ADMIN, Clients, HOST, tryJoin, codes, errCond, joinRoom, xml } from './room-client.js';

const ROOM = `live@${HOST}`;
const SECONDS = 4;
let srv: TestServer;
const clients = new Clients(() => srv);
test.after.each(async () => {
  await clients.stopAll();
  await srv?.stop();
});

test("a temporary ban keeps the anonymous viewer's address out for the ban's time, then lets it back", async () => {
  srv = await startTestServer({ testMode: true, muc: { autoBanAnonymousIpSeconds: 3600 } });
  const owner = await clients.user('owner');
  await joinRoom(owner, 'live', 'Owner');
  const troll = await clients.viewerFrom('127.0.0.1');
  await joinRoom(troll, 'live', 'Troll');
  const bannedAt = Date.now();
  await owner.iq(
    xml(
      'iq',
      { type: 'set', to: ROOM },
      xml(
        'query',
        { xmlns: ADMIN },
        xml(
          'item',
          { jid: troll.jid.split('/')[0], affiliation: 'outcast' },
          xml('expires', { xmlns: 'urn:livechat-xmpp:muc-temporary-ban:0', seconds: String(SECONDS) }),
        ),
      ),
    ),
  );
  await troll.waitFor(
    (s) => s.is('presence') && s.attrs.type === 'unavailable' && codes(s).includes('301'),
    10000,
    'troll banned',
  );

  // "Reloading the page": a new anonymous login from the same address.
  assert.is(
    errCond(await tryJoin(await clients.viewerFrom('127.0.0.1'), ROOM, 'Troll2')),
    'forbidden',
    'same address, new JID: refused during the ban',
  );
  assert.ok(Date.now() - bannedAt < SECONDS * 1000, 'checked inside the ban');
  assert.is(
    (await tryJoin(await clients.viewerFrom('127.0.0.2'), ROOM, 'Other')).attrs.type,
    undefined,
    'another address joins',
  );
  const list = await owner.iq(
    xml('iq', { type: 'get', to: ROOM }, xml('ip-bans', { xmlns: 'urn:livechat-xmpp:muc-ip-ban:0' })),
  );
  const until = Date.parse(list.getChild('ip-bans').getChildren('ban')[0].attrs.until);
  assert.ok(
    until <= bannedAt + SECONDS * 1000 + 2000 && until >= bannedAt + SECONDS * 1000 - 2000,
    'the address ban ends with the temporary ban, not in an hour',
  );

  while (Date.now() < until + 200) await new Promise((r) => setTimeout(r, 100));
  assert.is(
    (await tryJoin(await clients.viewerFrom('127.0.0.1'), ROOM, 'Back')).attrs.type,
    undefined,
    'back after the ban',
  );
});

test.run();
