// Registering with a room (XEP-0045 §7.10): the form, reserved nicknames, deregistration, absent members shown with
// presence broadcast "none"; through a real Router with capturing sessions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Element } from '../../src/xmpp/xml.js';
import { harness, join, codes, item, errorCondition, HOST, tick, submitConfig, type FakeSession } from './helpers.js';

const ADMIN = 'http://jabber.org/protocol/muc#admin';
const REGISTER = 'jabber:iq:register';
const DATA = 'jabber:x:data';

function getForm(s: FakeSession, id = 'g'): void {
  s.out(`<iq type="get" id="${id}" to="r@${HOST}"><query xmlns="${REGISTER}"/></iq>`);
}
function registerNick(s: FakeSession, nick: string, id = 's'): void {
  s.out(
    `<iq type="set" id="${id}" to="r@${HOST}"><query xmlns="${REGISTER}"><x xmlns="${DATA}" type="submit">` +
      `<field var="FORM_TYPE"><value>http://jabber.org/protocol/muc#register</value></field>` +
      `<field var="muc#register_roomnick"><value>${nick}</value></field></x></query></iq>`,
  );
}
function unregister(s: FakeSession, id = 'u'): void {
  s.out(`<iq type="set" id="${id}" to="r@${HOST}"><query xmlns="${REGISTER}"><remove/></query></iq>`);
}
function reservedNick(s: FakeSession): void {
  s.out(
    `<iq type="get" id="n" to="r@${HOST}"><query xmlns="http://jabber.org/protocol/disco#info" node="x-roomuser-item"/></iq>`,
  );
}
function grant(owner: FakeSession, jid: string, affiliation: string, nick?: string): void {
  owner.out(
    `<iq type="set" id="a" to="r@${HOST}"><query xmlns="${ADMIN}"><item affiliation="${affiliation}" jid="${jid}"${nick ? ` nick="${nick}"` : ''}/></query></iq>`,
  );
}
const iqReply = (got: Element[], id: string) => got.find((s) => s.name === 'iq' && s.attrs.id === id);

async function setup() {
  const h = await harness();
  const owner = h.session('owner@localhost/1');
  const juliet = h.session('juliet@localhost/1');
  const rosa = h.session('rosa@localhost/1');
  join(owner, 'r', 'Owner');
  grant(owner, 'juliet@localhost', 'member');
  await tick();
  owner.take();
  return { h, owner, juliet, rosa };
}

test('a member gets the form, registers a nick: presence before the result, disco reports the nick', async () => {
  const { owner, juliet } = await setup();
  join(juliet, 'r', 'Jules');
  juliet.take();
  owner.take();
  getForm(juliet);
  await tick();
  const [res] = juliet.take();
  assert.is(res.attrs.type, 'result');
  const x = res.getChild('query', REGISTER)!.getChild('x', DATA)!;
  assert.is(x.attrs.type, 'form');
  const fields = x.getChildren('field');
  assert.equal(
    fields.map((f) => f.attrs.var),
    ['FORM_TYPE', 'muc#register_roomnick'],
  );
  assert.is(fields[0].getChildText('value'), 'http://jabber.org/protocol/muc#register');
  assert.ok(fields[1].getChild('required'));
  assert.is(res.getChild('query')!.getChild('registered'), undefined);

  registerNick(juliet, 'Jules');
  await tick();
  const got = juliet.take();
  assert.equal(
    got.map((s) => s.name),
    ['presence', 'iq'],
    'updated self-presence, then the result',
  );
  assert.equal(codes(got[0]), ['110']);
  assert.is(item(got[0])?.attrs.affiliation, 'member');
  assert.is(got[1].attrs.type, 'result');
  assert.is(item(owner.take()[0])?.attrs.affiliation, 'member', 'the others see the presence too');

  reservedNick(juliet);
  await tick();
  const q = juliet.take()[0].getChild('query')!;
  assert.is(q.attrs.node, 'x-roomuser-item');
  assert.is(q.getChild('identity')?.attrs.name, 'Jules');

  // Registered: <registered/> and the form with the current value, to change it.
  getForm(juliet, 'g2');
  await tick();
  const again = juliet.take()[0].getChild('query', REGISTER)!;
  assert.ok(again.getChild('registered'));
  assert.is(again.getChild('x', DATA)!.getChildren('field')[1].getChildText('value'), 'Jules');

  // The member list names the reserved nick.
  owner.out(`<iq type="get" id="m" to="r@${HOST}"><query xmlns="${ADMIN}"><item affiliation="member"/></query></iq>`);
  await tick();
  const listed = owner.take()[0].getChild('query')!.getChild('item')!;
  assert.equal([listed.attrs.jid, listed.attrs.nick], ['juliet@localhost', 'Jules']);
});

test('a reserved nick is refused to others (conflict); registering a taken nick is a conflict', async () => {
  const { owner, juliet, rosa } = await setup();
  registerNick(juliet, 'Juliet');
  await tick();
  assert.is(juliet.take()[0].attrs.type, 'result', 'registration works from outside the room');
  join(rosa, 'r', 'Juliet');
  const [err] = rosa.take();
  assert.is(err.attrs.type, 'error');
  assert.is(errorCondition(err), 'conflict');
  // Someone else's reserved nick, or a nick another user is using now, cannot be registered.
  grant(owner, 'rosa@localhost', 'member');
  await tick();
  registerNick(rosa, 'Juliet');
  await tick();
  assert.is(errorCondition(rosa.take()[0]), 'conflict');
  registerNick(rosa, 'Owner');
  await tick();
  assert.is(errorCondition(rosa.take()[0]), 'conflict');
  // Bad forms.
  rosa.out(`<iq type="set" id="b" to="r@${HOST}"><query xmlns="${REGISTER}"/></iq>`);
  await tick();
  assert.is(errorCondition(rosa.take()[0]), 'bad-request');
  registerNick(rosa, ' spaced ');
  await tick();
  assert.is(errorCondition(rosa.take()[0]), 'bad-request');
  // The owner of the reservation joins under it.
  join(juliet, 'r', 'Juliet');
  assert.ok(juliet.take().some((s) => s.name === 'presence' && codes(s).includes('110')));
});

test('unaffiliated users may not register (not-allowed), outcasts are forbidden', async () => {
  const { owner, rosa } = await setup();
  getForm(rosa);
  await tick();
  let [e] = rosa.take();
  assert.is(errorCondition(e), 'not-allowed');
  assert.is(e.getChild('error')?.attrs.type, 'cancel');
  registerNick(rosa, 'Rosa');
  await tick();
  assert.is(errorCondition(rosa.take()[0]), 'not-allowed');
  grant(owner, 'rosa@localhost', 'outcast');
  await tick();
  getForm(rosa);
  await tick();
  [e] = rosa.take();
  assert.is(errorCondition(e), 'forbidden');
});

test('a member deregisters: affiliation and nick gone, others told; in a members-only room she is removed (321)', async () => {
  const { owner, juliet, rosa } = await setup();
  registerNick(juliet, 'Juliet');
  await tick();
  juliet.take();
  owner.take();
  unregister(juliet);
  await tick();
  assert.is(juliet.take()[0].attrs.type, 'result');
  const note = owner.take().find((s) => s.name === 'message')!;
  const it = note.getChild('x', 'http://jabber.org/protocol/muc#user')!.getChild('item')!;
  assert.equal([it.attrs.jid, it.attrs.affiliation, it.getChild('reason')], ['juliet@localhost', 'none', undefined]);
  join(rosa, 'r', 'Juliet');
  assert.ok(
    rosa.take().some((s) => s.name === 'presence' && codes(s).includes('110')),
    'the nick is free again',
  );

  // Members-only: deregistering removes her.
  submitConfig(owner, 'r', { 'muc#roomconfig_membersonly': '1' });
  await tick();
  grant(owner, 'juliet@localhost', 'member');
  await tick();
  join(juliet, 'r', 'Jules');
  juliet.take();
  owner.take();
  unregister(juliet, 'u2');
  await tick();
  const got = juliet.take();
  assert.equal(
    got.map((s) => s.name),
    ['presence', 'iq'],
  );
  assert.is(got[0].attrs.type, 'unavailable');
  assert.equal(codes(got[0]), ['321', '110']);
  assert.is(item(got[0])?.attrs.affiliation, 'none');
  const seen = owner.take().find((s) => s.name === 'presence' && s.attrs.from === `r@${HOST}/Jules`)!;
  assert.equal(codes(seen), ['321']);
});

test('an owner who deregisters keeps ownership and loses only the nick', async () => {
  const { owner } = await setup();
  registerNick(owner, 'Owner');
  await tick();
  owner.take();
  unregister(owner);
  await tick();
  assert.is(owner.take()[0].attrs.type, 'result');
  reservedNick(owner);
  await tick();
  assert.is(owner.take()[0].getChild('query')!.getChild('identity'), undefined);
  owner.out(`<iq type="get" id="o" to="r@${HOST}"><query xmlns="${ADMIN}"><item affiliation="owner"/></query></iq>`);
  await tick();
  assert.is(owner.take()[0].getChild('query')!.getChild('item')?.attrs.jid, 'owner@localhost');
});

test('presence broadcast "none": a joiner sees absent members with reserved nicks, after the occupants', async () => {
  const { owner, juliet, rosa } = await setup();
  submitConfig(owner, 'r', { 'muc#roomconfig_presencebroadcast': ['none', 'participant', 'moderator'] });
  await tick();
  registerNick(juliet, 'Juliet');
  grant(owner, 'bob@localhost', 'member'); // no nick: not listed
  await tick();
  owner.take();
  join(rosa, 'r', 'Rosa');
  const got = rosa.take();
  assert.equal(
    got.map((s) => `${s.name} ${s.attrs.from} ${s.attrs.type ?? ''}`),
    [
      `presence r@${HOST}/Owner `,
      `presence r@${HOST}/Juliet unavailable`,
      `presence r@${HOST}/Rosa `,
      `message r@${HOST} groupchat`,
    ],
  );
  const absent = item(got[1])!;
  assert.equal(
    [absent.attrs.affiliation, absent.attrs.role, absent.attrs.nick, absent.attrs.jid],
    ['member', 'none', 'Juliet', undefined],
  );
  // Once she is here, she is an occupant like the others, not listed as absent.
  join(juliet, 'r', 'Juliet');
  const jGot = juliet.take();
  assert.not.ok(jGot.some((s) => s.attrs.type === 'unavailable'));
  // The config form offers the role.
  owner.out(`<iq type="get" id="c" to="r@${HOST}"><query xmlns="http://jabber.org/protocol/muc#owner"/></iq>`);
  await tick();
  const field = owner
    .take()
    .find((s) => s.name === 'iq')!
    .getChild('query')!
    .getChild('x', DATA)!
    .getChildren('field')
    .find((f) => f.attrs.var === 'muc#roomconfig_presencebroadcast')!;
  assert.equal(
    field
      .getChildren('value')
      .map((v) => v.getText())
      .sort(),
    ['moderator', 'none', 'participant'],
  );
});

test('room disco advertises jabber:iq:register; a persistent room keeps the reserved nick', async () => {
  const { h, owner, juliet } = await setup();
  owner.out(`<iq type="get" id="d" to="r@${HOST}"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`);
  await tick();
  const feats = iqReply(owner.take(), 'd')!.getChild('query')!.getChildren('feature');
  assert.ok(feats.some((f) => f.attrs.var === REGISTER));
  submitConfig(owner, 'r', { 'muc#roomconfig_persistentroom': '1' });
  registerNick(juliet, 'Juliet');
  await tick();
  const snap = h.muc.snapshot(h.muc.getRoom('r')!);
  assert.equal(
    [snap.affiliations['juliet@localhost']?.affiliation, snap.affiliations['juliet@localhost']?.nick],
    ['member', 'Juliet'],
  );
});

test.run();
