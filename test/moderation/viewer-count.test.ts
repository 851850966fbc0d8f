// Participant list for moderators only, with a viewer counter for everyone (@xmpp/client): with presence broadcast
// limited to moderators and the counter on, viewers see no other viewer but get the count of occupants and of
// anonymous viewers; with the counter off they get nothing extra.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServerPerTest, HOST, configure, joinRoom, xml, type Stanza } from './room-client.js';

const NS = 'urn:livechat-xmpp:muc-occupant-count:0';
const fx = new ServerPerTest(test);
const clients = fx.clients;

const countIs = (total: number, anonymous: number) => (s: Stanza) =>
  s.getChild('occupants', NS)?.attrs.total === String(total) &&
  s.getChild('occupants', NS)?.attrs.anonymous === String(anonymous);

test('viewers see moderators only and a counter; moderators see everyone and get no counter', async () => {
  const owner = await clients.user('owner');
  await joinRoom(owner, 'live', 'Owner');
  await configure(owner, 'live', {
    'muc#roomconfig_presencebroadcast': ['moderator'],
    'muc#roomconfig_x_livechat_viewer_counter': '1',
  });
  const alice = await clients.user('alice');
  const v1 = await clients.viewer();
  await joinRoom(alice, 'live', 'Alice');
  await joinRoom(v1, 'live', 'V1');
  await v1.waitFor(countIs(3, 1), 5000, 'counter on join');
  assert.ok(
    v1.received.some((s) => s.is('presence') && s.attrs.from === `live@${HOST}/Owner`),
    'moderator visible',
  );
  assert.not.ok(
    v1.received.some((s) => s.is('presence') && s.attrs.from === `live@${HOST}/Alice`),
    'participant hidden',
  );

  const v2 = await clients.viewer();
  await joinRoom(v2, 'live', 'V2');
  await v1.waitFor(countIs(4, 2), 10000, 'batched update after an arrival');
  await alice.waitFor(countIs(4, 2), 10000, 'accounts get it too');
  await v2.stop();
  await v1.waitFor(countIs(3, 1), 10000, 'update after a departure');
  await owner.waitFor((s) => s.is('presence') && s.attrs.from === `live@${HOST}/V2`, 5000, 'owner sees viewers');
  assert.not.ok(
    owner.received.some((s) => !!s.getChild('occupants', NS)),
    'no counter for moderators',
  );
  const info = await v1.iq(
    xml('iq', { type: 'get', to: `live@${HOST}` }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
  );
  const field = info
    .getChild('query')
    .getChild('x', 'jabber:x:data')
    .getChildren('field')
    .find((f: Stanza) => f.attrs.var === 'x-livechat#roominfo_anonymous_occupants');
  assert.is(field?.getChildText('value'), '1');
});

test('without the counter option nothing extra is sent', async () => {
  const owner = await clients.user('owner');
  await joinRoom(owner, 'live', 'Owner');
  await configure(owner, 'live', { 'muc#roomconfig_presencebroadcast': ['moderator'] });
  const v1 = await clients.viewer();
  await joinRoom(v1, 'live', 'V1');
  await v1.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  assert.not.ok(v1.received.some((s) => !!s.getChild('occupants', NS)));
});

test.run();
