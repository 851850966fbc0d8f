// Multi-session nicks (XEP-0045 §7.2.9): one occupant, several resources of the same user under one nick; presences
// list an <item/> per session where real JIDs are visible; one session leaving, bouncing or changing nick.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Element } from '../../src/xmpp/xml.js';
import { harness, join, codes, item, errorCondition, HOST } from './helpers.js';

const USER = 'http://jabber.org/protocol/muc#user';
const items = (p: Element) => p.getChild('x', USER)?.getChildren('item') ?? [];
const jids = (p: Element) => items(p).map((i) => i.attrs.jid);
const from = (nick: string) => (s: Element) => s.name === 'presence' && s.attrs.from === `r@${HOST}/${nick}`;

async function setup() {
  const h = await harness();
  const owner = h.session('owner@localhost/1');
  const viewer = h.session('v@anon.localhost/x');
  const laptop = h.session('juliet@localhost/laptop');
  const phone = h.session('juliet@localhost/phone');
  join(owner, 'r', 'Owner');
  join(viewer, 'r', 'Viewer');
  join(laptop, 'r', 'Juliet');
  for (const s of [owner, viewer, laptop]) s.take();
  return { h, owner, viewer, laptop, phone };
}

test('a second session joins the occupant: moderators see an item per session, others nothing new', async () => {
  const { h, owner, viewer, laptop, phone } = await setup();
  join(phone, 'r', 'Juliet');
  const pGot = phone.take();
  const self = pGot.find((s) => from('Juliet')(s) && codes(s).includes('110'))!;
  assert.equal(jids(self), ['juliet@localhost/phone', 'juliet@localhost/laptop'], 'own session first');
  assert.ok(pGot.some(from('Owner')), 'the new session gets the occupant list');
  assert.is(pGot.filter(from('Juliet')).length, 1, 'its own nick only once, as self-presence');
  const oGot = owner.take().filter(from('Juliet'));
  assert.is(oGot.length, 1);
  assert.equal(jids(oGot[0]).sort(), ['juliet@localhost/laptop', 'juliet@localhost/phone']);
  assert.equal(viewer.take(), [], 'the anonymous view did not change');
  const lGot = laptop.take().filter(from('Juliet'));
  assert.equal(
    jids(lGot[0]),
    ['juliet@localhost/laptop', 'juliet@localhost/phone'],
    'the first session learns of the second',
  );
  const room = h.muc.getRoom('r')!;
  assert.is(room.occupantCount, 3);

  // Room messages reach both sessions; both may speak.
  phone.out(`<message type="groupchat" to="r@${HOST}" id="m1"><body>hi</body></message>`);
  for (const s of [laptop, phone, owner, viewer]) {
    const m = s.take().find((x) => x.name === 'message')!;
    assert.is(m.attrs.from, `r@${HOST}/Juliet`);
  }
  // Private messages to the nick reach both sessions.
  owner.out(`<message type="chat" to="r@${HOST}/Juliet"><body>psst</body></message>`);
  assert.is(laptop.take().length, 1);
  assert.is(phone.take().length, 1);
});

test('one session leaves: it alone gets unavailable; the occupant stays with one item', async () => {
  const { owner, viewer, laptop, phone } = await setup();
  join(phone, 'r', 'Juliet');
  for (const s of [owner, viewer, laptop, phone]) s.take();
  phone.out(`<presence type="unavailable" to="r@${HOST}/Juliet"/>`);
  const [bye] = phone.take();
  assert.is(bye.attrs.type, 'unavailable');
  assert.equal(codes(bye), ['110']);
  assert.equal(jids(bye), ['juliet@localhost/phone']);
  const o = owner.take().filter(from('Juliet'));
  assert.is(o.length, 1);
  assert.is(o[0].attrs.type, undefined, 'still available');
  assert.equal(jids(o[0]), ['juliet@localhost/laptop']);
  assert.equal(viewer.take(), []);
  // The laptop was the primary session; now it leaves and the occupant goes.
  laptop.take();
  laptop.out(`<presence type="unavailable" to="r@${HOST}/Juliet"/>`);
  assert.is(owner.take().filter(from('Juliet'))[0].attrs.type, 'unavailable');
  assert.is(viewer.take().filter(from('Juliet'))[0].attrs.type, 'unavailable');
});

test('the primary session leaving updates everyone (its presence represented the occupant)', async () => {
  const { owner, viewer, laptop, phone } = await setup();
  phone.out(`<presence to="r@${HOST}/Juliet"><x xmlns="http://jabber.org/protocol/muc"/><show>away</show></presence>`);
  for (const s of [owner, viewer, laptop, phone]) s.take();
  laptop.out(`<presence type="unavailable" to="r@${HOST}/Juliet"/>`);
  const v = viewer.take().filter(from('Juliet'));
  assert.is(v.length, 1);
  assert.is(v[0].attrs.type, undefined);
  assert.is(v[0].getChildText('show'), 'away', "now the phone's presence");
  assert.equal(jids(v[0]), [undefined]);
});

test('a presence error from one session removes that session only (issue 978)', async () => {
  const { owner, laptop, phone } = await setup();
  join(phone, 'r', 'Juliet');
  owner.take();
  laptop.out(
    `<presence type="error" to="r@${HOST}"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></presence>`,
  );
  const o = owner.take().filter(from('Juliet'));
  assert.is(o.length, 1);
  assert.is(o[0].attrs.type, undefined);
  assert.equal(jids(o[0]), ['juliet@localhost/phone']);
  assert.equal(codes(o[0]), []);
});

test('one session changes nick: it moves alone (303 to it), the old nick stays with the other session', async () => {
  const { h, owner, viewer, laptop, phone } = await setup();
  join(phone, 'r', 'Juliet');
  for (const s of [owner, viewer, laptop, phone]) s.take();
  phone.out(`<presence to="r@${HOST}/Jules"/>`);
  const p = phone.take();
  assert.equal(
    p.map((s) => `${s.attrs.from} ${s.attrs.type ?? ''}`),
    [`r@${HOST}/Juliet unavailable`, `r@${HOST}/Jules `],
  );
  assert.equal(codes(p[0]), ['303', '110']);
  assert.is(item(p[0])?.attrs.nick, 'Jules');
  assert.equal(jids(p[0]), ['juliet@localhost/phone']);
  assert.equal(codes(p[1]), ['110']);
  const o = owner.take();
  const oldNick = o.filter(from('Juliet'));
  assert.is(oldNick.length, 1);
  assert.is(oldNick[0].attrs.type, undefined);
  assert.equal(jids(oldNick[0]), ['juliet@localhost/laptop']);
  assert.equal(jids(o.filter(from('Jules'))[0]), ['juliet@localhost/phone']);
  const v = viewer.take();
  assert.equal(
    v.map((s) => `${s.attrs.from} ${s.attrs.type ?? ''}`),
    [`r@${HOST}/Jules `],
    'viewers see a new occupant',
  );
  const room = h.muc.getRoom('r')!;
  assert.is(room.occupantCount, 4);
  // Messages from the phone now come from its new nick.
  phone.out(`<message type="groupchat" to="r@${HOST}"><body>x</body></message>`);
  assert.is(viewer.take().find((s) => s.name === 'message')?.attrs.from, `r@${HOST}/Jules`);
  assert.is(laptop.take().find((s) => s.name === 'message')?.attrs.from, `r@${HOST}/Jules`);

  // The phone goes back: it rejoins the laptop's occupant; Jules leaves.
  for (const s of [owner, viewer, laptop, phone]) s.take();
  phone.out(`<presence to="r@${HOST}/Juliet"/>`);
  const back = phone.take();
  assert.equal(
    back.map((s) => `${s.attrs.from} ${s.attrs.type ?? ''}`),
    [`r@${HOST}/Jules unavailable`, `r@${HOST}/Juliet `],
  );
  assert.equal(
    viewer.take().map((s) => `${s.attrs.from} ${s.attrs.type ?? ''}`),
    [`r@${HOST}/Jules unavailable`],
  );
  const o2 = owner.take();
  assert.equal(jids(o2.filter(from('Juliet'))[0]).sort(), ['juliet@localhost/laptop', 'juliet@localhost/phone']);
  assert.is(room.occupantCount, 3);
});

test('a nick held by another user stays a conflict, also for a multi-session occupant', async () => {
  const { laptop, phone } = await setup();
  join(phone, 'r', 'Juliet');
  phone.take();
  phone.out(`<presence to="r@${HOST}/Owner"/>`);
  const [err] = phone.take();
  assert.is(err.attrs.type, 'error');
  assert.is(errorCondition(err), 'conflict');
  assert.equal(
    laptop.take().filter((s) => s.attrs.type === 'unavailable'),
    [],
  );
});

test.run();
