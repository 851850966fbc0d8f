// Joining, leaving, nick changes and their status codes, through a real Router with capturing sessions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, join, codes, item, errorCondition, HOST, tick } from './helpers.js';

test('creator gets 201, 110, owner/moderator and the empty subject', async () => {
  const h = await harness();
  const romeo = h.session('romeo@localhost/r1');
  join(romeo, 'garden', 'romeo');
  const got = romeo.take();
  assert.is(got.length, 2);
  const [self, subject] = got;
  assert.is(self.name, 'presence');
  assert.is(self.attrs.from, `garden@${HOST}/romeo`);
  assert.equal(codes(self), ['201', '110']);
  assert.is(item(self)?.attrs.affiliation, 'owner');
  assert.is(item(self)?.attrs.role, 'moderator');
  assert.is(item(self)?.attrs.jid, 'romeo@localhost/r1');
  assert.ok(self.getChild('occupant-id', 'urn:xmpp:occupant-id:0')?.attrs.id);
  assert.is(subject.name, 'message');
  assert.is(subject.attrs.from, `garden@${HOST}`);
  assert.ok(subject.getChild('subject'));
});

test('three occupants see each other; jids only for moderators', async () => {
  const h = await harness();
  const [a, b, c] = ['a@localhost/1', 'b@localhost/1', 'c@anon.localhost/x'].map((j) => h.session(j));
  join(a, 'r', 'A');
  a.take();
  join(b, 'r', 'B');
  const bGot = b.take();
  assert.equal(
    bGot.map((s) => s.attrs.from),
    [`r@${HOST}/A`, `r@${HOST}/B`, `r@${HOST}`],
  );
  assert.is(item(bGot[0])?.attrs.jid, undefined, 'participant does not see the owner jid');
  assert.equal(codes(bGot[1]), ['110']);
  const aGot = a.take();
  assert.is(aGot.length, 1);
  assert.is(item(aGot[0])?.attrs.jid, 'b@localhost/1', 'moderator sees real jid');
  join(c, 'r', 'C');
  const cGot = c.take();
  assert.is(cGot.filter((s) => s.name === 'presence').length, 3);
  assert.is(a.take().length, 1);
  assert.is(b.take().length, 1);
});

test('nick conflict 409, nick change 303', async () => {
  const h = await harness();
  const a = h.session('a@localhost/1');
  const b = h.session('b@localhost/1');
  join(a, 'r', 'A');
  join(b, 'r', 'A');
  const err = b.take();
  assert.is(err.length, 1);
  assert.is(err[0].attrs.type, 'error');
  assert.is(errorCondition(err[0]), 'conflict');
  join(b, 'r', 'B');
  a.take();
  b.take();
  b.out(`<presence to="r@${HOST}/Bee"/>`);
  const bGot = b.take();
  assert.is(bGot.length, 2);
  assert.is(bGot[0].attrs.type, 'unavailable');
  assert.equal(codes(bGot[0]), ['303', '110']);
  assert.is(item(bGot[0])?.attrs.nick, 'Bee');
  assert.is(bGot[1].attrs.from, `r@${HOST}/Bee`);
  const aGot = a.take();
  assert.equal(codes(aGot[0]), ['303']);
  assert.is(aGot[1].attrs.from, `r@${HOST}/Bee`);
  b.out(`<presence to="r@${HOST}/A"/>`);
  assert.is(errorCondition(b.take()[0]), 'conflict');
});

test('leave broadcasts unavailable with status text; empty temporary room vanishes', async () => {
  const h = await harness();
  const a = h.session('a@localhost/1');
  const b = h.session('b@localhost/1');
  join(a, 'r', 'A');
  join(b, 'r', 'B');
  a.take();
  b.take();
  b.out(`<presence type="unavailable" to="r@${HOST}"><status>Farewell</status></presence>`);
  const aGot = a.take();
  assert.is(aGot[0].attrs.type, 'unavailable');
  assert.is(aGot[0].getChildText('status'), 'Farewell');
  assert.equal(codes(b.take()[0]), ['110']);
  a.out(`<presence type="unavailable" to="r@${HOST}/A"/>`);
  assert.not.ok(h.muc.getRoom('r'));
});

test('bad nick is refused, messages with stanza-id reach all', async () => {
  const h = await harness();
  const a = h.session('a@localhost/1');
  const b = h.session('b@localhost/1');
  join(a, 'r', 'A');
  join(b, 'r', '🤖\uFE0F');
  assert.is(errorCondition(b.take()[0]), 'jid-malformed');
  join(b, 'r', 'B');
  a.take();
  b.take();
  b.out(
    `<message type="groupchat" to="r@${HOST}" id="m1"><body>hi</body><origin-id xmlns="urn:xmpp:sid:0" id="o1"/><stanza-id xmlns="urn:xmpp:sid:0" id="fake" by="r@${HOST}"/></message>`,
  );
  const [ma] = a.take();
  const [mb] = b.take();
  for (const m of [ma, mb]) {
    assert.is(m.attrs.from, `r@${HOST}/B`);
    assert.is(m.attrs.id, 'm1');
    const sids = m.getChildren('stanza-id', 'urn:xmpp:sid:0');
    assert.is(sids.length, 1);
    assert.is.not(sids[0].attrs.id, 'fake');
    assert.is(m.getChild('origin-id', 'urn:xmpp:sid:0')?.attrs.id, 'o1');
  }
  assert.is(ma.getChild('stanza-id')?.attrs.id, mb.getChild('stanza-id')?.attrs.id);
  // not an occupant
  const c = h.session('c@localhost/1');
  c.out(`<message type="groupchat" to="r@${HOST}"><body>x</body></message>`);
  assert.is(errorCondition(c.take()[0]), 'not-acceptable');
  await tick();
});

test('history on join: default and maxstanzas', async () => {
  const h = await harness();
  const a = h.session('a@localhost/1');
  join(a, 'r', 'A');
  for (let i = 0; i < 25; i++) a.out(`<message type="groupchat" to="r@${HOST}"><body>m${i}</body></message>`);
  const b = h.session('b@localhost/1');
  join(b, 'r', 'B');
  const msgs = b.take().filter((s) => s.name === 'message' && s.getChild('body'));
  assert.is(msgs.length, 20);
  assert.is(msgs[0].getChildText('body'), 'm5');
  assert.ok(msgs[0].getChild('delay', 'urn:xmpp:delay'));
  const c = h.session('c@localhost/1');
  join(c, 'r', 'C', '<history maxstanzas="3"/>');
  const cm = c.take();
  assert.equal(
    cm.filter((s) => s.getChild('body')).map((s) => s.getChildText('body')),
    ['m22', 'm23', 'm24'],
  );
  assert.ok(cm[cm.length - 1].getChild('subject'), 'subject comes last');
  const d = h.session('d@localhost/1');
  join(d, 'r', 'D', '<history maxchars="0"/>');
  assert.is(d.take().filter((s) => s.getChild('body')).length, 0);
});

test('a join without a nickname is jid-malformed (XEP-0045 §7.2.1), to a new room and to an existing one', async () => {
  const h = await harness();
  const a = h.session('a@localhost/1');
  a.out(`<presence to="fresh@${HOST}"><x xmlns="http://jabber.org/protocol/muc"/></presence>`);
  const [err] = a.take();
  assert.is(err?.attrs.type, 'error');
  assert.is(errorCondition(err), 'jid-malformed');
  assert.is(err.getChild('error')?.attrs.type, 'modify');
  assert.not.ok(h.muc.getRoom('fresh'), 'a room was created without an occupant');
  join(a, 'r', 'A');
  a.take();
  const b = h.session('b@localhost/1');
  b.out(`<presence to="r@${HOST}"><x xmlns="http://jabber.org/protocol/muc"/></presence>`);
  const [err2] = b.take();
  assert.is(errorCondition(err2), 'jid-malformed');
  assert.is(a.take().length, 0, 'the occupant heard of a failed join');
});

test.run();
