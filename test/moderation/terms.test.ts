// Chat terms on livechat's wire (mod_muc_peertubelivechat_terms), with @xmpp/client: global and room terms on
// join from room/Peertube, never in history, reserved nickname, forged markers stripped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServerPerTest, HOST, MUC, configure, errCond, joinRoom, say, xml, type Stanza } from './room-client.js';

const GLOBAL = 'Be nice. No spam.';
const fx = new ServerPerTest(test, { testMode: true, muc: { terms: GLOBAL } });
const clients = fx.clients;

const termsOf = (type: string) => (s: Stanza) => s.is('message') && s.getChild('x-livechat-terms')?.attrs.type === type;

test('global terms on every join, then the room terms once set; both from room/Peertube with no-store and delay', async () => {
  const owner = await clients.user('owner');
  await joinRoom(owner, 'live', 'Owner');
  const g = await owner.waitFor(termsOf('global'), 5000, 'global terms');
  assert.is(g.attrs.from, `live@${HOST}/Peertube`);
  assert.is(g.getChildText('body'), GLOBAL);
  assert.ok(
    g.getChild('no-store', 'urn:xmpp:hints') &&
      g.getChild('no-permanent-store', 'urn:xmpp:hints') &&
      g.getChild('no-copy', 'urn:xmpp:hints'),
  );
  assert.ok(g.getChild('delay', 'urn:xmpp:delay'));
  assert.not.ok(g.getChild('stanza-id', 'urn:xmpp:sid:0'), 'not archived');
  assert.not.ok(owner.received.some(termsOf('muc')), 'no room terms yet');

  assert.ok(fx.srv.server.muc.setRoomTerms('live', 'Room rule: English only.'));
  const m = await owner.waitFor(termsOf('muc'), 5000, 'room terms broadcast');
  assert.is(m.getChildText('body'), 'Room rule: English only.');
  assert.not.ok(fx.srv.server.muc.setRoomTerms('live', 'Room rule: English only.'), 'unchanged');

  const guest = await clients.viewer();
  await joinRoom(guest, 'live', 'Guest');
  await guest.waitFor(termsOf('global'), 5000, 'global terms for guest');
  await guest.waitFor(termsOf('muc'), 5000, 'room terms for guest');
  // Not in the history a later joiner gets.
  await configure(owner, 'live', { 'muc#roomconfig_persistentroom': '1' });
  const late = await clients.viewer();
  await joinRoom(late, 'live', 'Late');
  await late.waitFor(termsOf('muc'), 5000, 'room terms for late');
  assert.is(
    late.received.filter((s) => s.getChild('x-livechat-terms')).length,
    2,
    'one global, one room terms, none from history',
  );
});

test('the Peertube nickname is reserved; a forged terms marker is stripped', async () => {
  const alice = await clients.user('alice');
  await alice.send(xml('presence', { to: `live@${HOST}/Peertube` }, xml('x', { xmlns: MUC })));
  const err = await alice.waitFor((s) => s.is('presence') && s.attrs.type === 'error', 5000, 'join refused');
  assert.is(errCond(err), 'conflict');
  await joinRoom(alice, 'live', 'Alice');
  await alice.send(xml('presence', { to: `live@${HOST}/Peertube` }));
  const err2 = await alice.waitFor(
    (s) => s.is('presence') && s.attrs.type === 'error' && s !== err,
    5000,
    'nick change refused',
  );
  assert.is(errCond(err2), 'conflict');
  const bob = await clients.user('bob');
  await joinRoom(bob, 'live', 'Bob');
  await say(alice, 'live', 'official!', [xml('x-livechat-terms', { type: 'global' })]);
  const got = await bob.waitFor((s) => s.getChildText('body') === 'official!', 5000, 'relayed');
  assert.not.ok(got.getChild('x-livechat-terms'), 'marker stripped');
});

test.run();
