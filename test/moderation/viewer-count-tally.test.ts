// The viewer counter's figures (total occupants, anonymous viewers) stay exact through everything that adds or
// removes an occupant: joins of viewers and accounts, nick changes, a second session taking another nick, kicks,
// leaving with a presence or by closing the connection. Read from the room's disco#info after each step, and from
// the counter a newcomer gets on join.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ServerPerTest,
  HOST,
  ADMIN,
  MUC,
  configure,
  joinRoom,
  xml,
  type Stanza,
  type TestClient,
} from './room-client.js';

const NS = 'urn:livechat-xmpp:muc-occupant-count:0';
const fx = new ServerPerTest(test);
const clients = fx.clients;
const ROOM = `live@${HOST}`;

async function roomCounts(c: TestClient): Promise<{ total: string; anonymous: string }> {
  const info = await c.iq(
    xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
  );
  const fields = info.getChild('query').getChild('x', 'jabber:x:data').getChildren('field') as Stanza[];
  const value = (v: string) => fields.find((f) => f.attrs.var === v)?.getChildText('value');
  return { total: value('muc#roominfo_occupants'), anonymous: value('x-livechat#roominfo_anonymous_occupants') };
}

const expectCounts = async (c: TestClient, total: number, anonymous: number, step: string) =>
  assert.equal(await roomCounts(c), { total: String(total), anonymous: String(anonymous) }, step);

/** Sends a presence to the room and waits for the self-presence (status 110) it leads to from `nick`. */
async function presenceTo(c: TestClient, nick: string, type?: string): Promise<void> {
  const mark = c.received.length;
  await c.send(xml('presence', { to: `${ROOM}/${nick}`, ...(type ? { type } : {}) }));
  await c.waitFor(
    (s) =>
      c.received.indexOf(s) >= mark &&
      s.is('presence') &&
      s.attrs.from === `${ROOM}/${nick}` &&
      (s.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChildren('status') ?? []).some(
        (st: Stanza) => st.attrs.code === '110',
      ),
    10000,
    `self-presence from ${nick}`,
  );
}

test('total and anonymous counts follow joins, nick changes, extra sessions, kicks and leaves', async () => {
  const owner = await clients.user('owner');
  await joinRoom(owner, 'live', 'Owner');
  await configure(owner, 'live', {
    'muc#roomconfig_presencebroadcast': ['moderator'],
    'muc#roomconfig_x_livechat_viewer_counter': '1',
  });
  await expectCounts(owner, 1, 0, 'owner alone');

  const v1 = await clients.viewer();
  const v2 = await clients.viewer();
  await joinRoom(v1, 'live', 'V1');
  await joinRoom(v2, 'live', 'V2');
  await expectCounts(owner, 3, 2, 'two viewers joined');
  assert.ok(
    v2.received.some((s) => s.getChild('occupants', NS)?.attrs.total === '3'),
    'the join counter carries the new total',
  );

  await presenceTo(v1, 'V1 renamed');
  await expectCounts(owner, 3, 2, 'a nick change is no arrival');

  const aliceWeb = await clients.user('alice', 'web');
  const alicePhone = await clients.user('alice', 'phone');
  await joinRoom(aliceWeb, 'live', 'Alice');
  await joinRoom(alicePhone, 'live', 'Alice');
  await expectCounts(owner, 4, 2, 'a second session under the same nick is the same occupant');
  await alicePhone.send(xml('presence', { to: `${ROOM}/Alice on phone` }, xml('x', { xmlns: MUC })));
  await alicePhone.waitFor((s) => s.is('presence') && s.attrs.from === `${ROOM}/Alice on phone`, 10000, 'moved');
  await expectCounts(owner, 5, 2, 'that session moving to another nick is one occupant more');

  await owner.iq(
    xml('iq', { type: 'set', to: ROOM }, xml('query', { xmlns: ADMIN }, xml('item', { nick: 'V2', role: 'none' }))),
  );
  await expectCounts(owner, 4, 1, 'a kicked viewer is gone');

  await presenceTo(v1, 'V1 renamed', 'unavailable');
  await expectCounts(owner, 3, 0, 'a viewer that left');

  const v3 = await clients.viewer();
  await joinRoom(v3, 'live', 'V3');
  assert.ok(
    v3.received.some(
      (s) => s.getChild('occupants', NS)?.attrs.total === '4' && s.getChild('occupants', NS)?.attrs.anonymous === '1',
    ),
    'the newcomer sees itself counted',
  );
  await v3.stop();
  await owner.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${ROOM}/V3` && s.attrs.type === 'unavailable',
    10000,
    'V3 gone',
  );
  await expectCounts(owner, 3, 0, 'a viewer whose connection closed');
  await aliceWeb.stop();
  await alicePhone.stop();
  await owner.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${ROOM}/Alice on phone` && s.attrs.type === 'unavailable',
    10000,
    'Alice gone',
  );
  await expectCounts(owner, 1, 0, 'accounts gone');
});

test.run();
