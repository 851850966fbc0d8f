// Kick, ban, voice, affiliation lists, retraction and destroy, through a real Router with capturing sessions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, join, codes, item, errorCondition, HOST, tick, submitConfig } from './helpers.js';

const ADMIN = 'http://jabber.org/protocol/muc#admin';

async function room3() {
  const h = await harness();
  const owner = h.session('owner@localhost/1');
  const alice = h.session('alice@localhost/1');
  const bob = h.session('bob@anon.localhost/b');
  join(owner, 'r', 'Owner');
  join(alice, 'r', 'Alice');
  join(bob, 'r', 'Bob');
  for (const s of [owner, alice, bob]) s.take();
  return { h, owner, alice, bob };
}

test('owner kicks with reason: 307 to all, actor and reason shown', async () => {
  const { owner, alice, bob } = await room3();
  owner.out(
    `<iq type="set" id="k1" to="r@${HOST}"><query xmlns="${ADMIN}"><item nick="Bob" role="none"><reason>spam</reason></item></query></iq>`,
  );
  await tick();
  const bobGot = bob.take();
  assert.is(bobGot[0].attrs.type, 'unavailable');
  assert.equal(codes(bobGot[0]), ['307', '110']);
  assert.is(item(bobGot[0])?.getChildText('reason'), 'spam');
  assert.is(item(bobGot[0])?.getChild('actor')?.attrs.nick, 'Owner');
  assert.is(item(bobGot[0])?.getChild('actor')?.attrs.jid, undefined, 'actor jid hidden from a participant');
  const aliceGot = alice.take();
  assert.equal(codes(aliceGot[0]), ['307']);
  const ownerGot = owner.take();
  assert.equal(codes(ownerGot[0]), ['307']);
  assert.is(ownerGot[1].attrs.type, 'result');
  // bob may come back after a kick
  join(bob, 'r', 'Bob');
  assert.ok(bob.take().some((s) => codes(s).includes('110')));
});

test('participant cannot kick; nobody can kick the owner', async () => {
  const { owner, alice } = await room3();
  alice.out(
    `<iq type="set" id="k1" to="r@${HOST}"><query xmlns="${ADMIN}"><item nick="Bob" role="none"/></query></iq>`,
  );
  await tick();
  assert.is(errorCondition(alice.take()[0]), 'forbidden');
  owner.out(
    `<iq type="set" id="m" to="r@${HOST}"><query xmlns="${ADMIN}"><item jid="alice@localhost" affiliation="admin"/></query></iq>`,
  );
  await tick();
  alice.take();
  alice.out(
    `<iq type="set" id="k2" to="r@${HOST}"><query xmlns="${ADMIN}"><item nick="Owner" role="none"/></query></iq>`,
  );
  await tick();
  assert.is(errorCondition(alice.take().find((s) => s.name === 'iq')!), 'not-allowed');
});

test('ban with reason: 301, banned user cannot rejoin (403), outcast list keeps reason', async () => {
  const { h, owner, alice, bob } = await room3();
  owner.out(
    `<iq type="set" id="b1" to="r@${HOST}"><query xmlns="${ADMIN}"><item jid="bob@anon.localhost" affiliation="outcast"><reason>troll</reason></item></query></iq>`,
  );
  await tick();
  const bobGot = bob.take();
  assert.equal(codes(bobGot[0]), ['301', '110']);
  assert.is(item(bobGot[0])?.attrs.affiliation, 'outcast');
  assert.equal(codes(alice.take()[0]), ['301']);
  join(bob, 'r', 'Bob2');
  const err = bob.take()[0];
  assert.is(err.attrs.type, 'error');
  assert.is(errorCondition(err), 'forbidden');
  owner.take();
  owner.out(`<iq type="get" id="l1" to="r@${HOST}"><query xmlns="${ADMIN}"><item affiliation="outcast"/></query></iq>`);
  await tick();
  const list = owner.take()[0];
  const items = list.getChild('query', ADMIN)!.getChildren('item');
  assert.is(items.length, 1);
  assert.is(items[0].attrs.jid, 'bob@anon.localhost');
  assert.is(items[0].getChildText('reason'), 'troll');
  // ban of someone not present is announced to moderators
  owner.out(
    `<iq type="set" id="b2" to="r@${HOST}"><query xmlns="${ADMIN}"><item jid="tybalt@localhost" affiliation="outcast"><reason>calm down</reason></item></query></iq>`,
  );
  await tick();
  const [note, res] = owner.take();
  assert.is(note.name, 'message');
  assert.equal(codes(note), ['301']);
  assert.is(res.attrs.type, 'result');
  assert.is(alice.take().length, 0, 'participants do not learn banned JIDs');
  void h;
});

test('voice revoked in a moderated room blocks messages with forbidden', async () => {
  const { owner, alice, bob } = await room3();
  submitConfig(owner, 'r', { 'muc#roomconfig_moderatedroom': '1' });
  await tick();
  owner.take();
  alice.take();
  bob.take();
  owner.out(
    `<iq type="set" id="v1" to="r@${HOST}"><query xmlns="${ADMIN}"><item nick="Bob" role="visitor"/></query></iq>`,
  );
  await tick();
  const bp = bob.take()[0];
  assert.is(item(bp)?.attrs.role, 'visitor');
  assert.equal(codes(bp), ['110']);
  assert.is(item(alice.take()[0])?.attrs.role, 'visitor');
  bob.out(`<message type="groupchat" to="r@${HOST}" id="x"><body>let me speak</body></message>`);
  const err = bob.take()[0];
  assert.is(err.attrs.type, 'error');
  assert.is(errorCondition(err), 'forbidden');
  assert.is(err.getChild('error')?.attrs.type, 'auth');
  assert.is(alice.take().length, 0);
  owner.out(
    `<iq type="set" id="v2" to="r@${HOST}"><query xmlns="${ADMIN}"><item nick="Bob" role="participant"/></query></iq>`,
  );
  await tick();
  bob.take();
  bob.out(`<message type="groupchat" to="r@${HOST}"><body>thanks</body></message>`);
  assert.is(alice.take().filter((m) => m.getChildText('body') === 'thanks').length, 1);
});

test('new joiners of a moderated room are visitors', async () => {
  const { h, owner } = await room3();
  submitConfig(owner, 'r', { 'muc#roomconfig_moderatedroom': '1' });
  await tick();
  const carol = h.session('carol@anon.localhost/c');
  join(carol, 'r', 'Carol');
  const self = carol.take().find((s) => codes(s).includes('110'))!;
  assert.is(item(self)?.attrs.role, 'visitor');
});

test('affiliation change by nick (issue 1224) and member list', async () => {
  const { owner, alice } = await room3();
  owner.out(
    `<iq type="set" id="m1" to="r@${HOST}"><query xmlns="${ADMIN}"><item affiliation="member" nick="Alice"/></query></iq>`,
  );
  await tick();
  const og = owner.take();
  assert.is(item(og[0])?.attrs.affiliation, 'member');
  assert.is(item(og[0])?.getChild('actor')?.attrs.jid, 'owner@localhost/1');
  assert.is(og[1].attrs.type, 'result');
  const ag = alice.take()[0];
  assert.equal(codes(ag), ['110']);
  assert.is(item(ag)?.getChild('actor')?.attrs.nick, 'Owner');
  owner.out(`<iq type="get" id="m2" to="r@${HOST}"><query xmlns="${ADMIN}"><item affiliation="member"/></query></iq>`);
  await tick();
  assert.is(owner.take()[0].getChild('query')!.getChild('item')?.attrs.jid, 'alice@localhost');
  alice.out(`<iq type="get" id="m3" to="r@${HOST}"><query xmlns="${ADMIN}"><item affiliation="member"/></query></iq>`);
  await tick();
  assert.is(errorCondition(alice.take()[0]), 'forbidden');
});

test('last owner cannot step down', async () => {
  const { owner } = await room3();
  owner.out(
    `<iq type="set" id="o" to="r@${HOST}"><query xmlns="${ADMIN}"><item affiliation="member" jid="owner@localhost"/></query></iq>`,
  );
  await tick();
  assert.is(errorCondition(owner.take()[0]), 'conflict');
});

test('moderated retraction (v0 and current) reaches all; tombstone in history', async () => {
  const { h, owner, alice, bob } = await room3();
  bob.out(`<message type="groupchat" to="r@${HOST}" id="bad"><body>bad words</body></message>`);
  const sid = alice.take()[0].getChild('stanza-id')!.attrs.id;
  owner.take();
  bob.take();
  owner.out(
    `<iq type="set" id="mod0" to="r@${HOST}"><apply-to xmlns="urn:xmpp:fasten:0" id="${sid}"><moderate xmlns="urn:xmpp:message-moderate:0"><retract xmlns="urn:xmpp:message-retract:0"/><reason>rude</reason></moderate></apply-to></iq>`,
  );
  await tick();
  for (const s of [alice, bob]) {
    const m = s.take()[0];
    assert.is(m.attrs.from, `r@${HOST}`);
    const a0 = m.getChild('apply-to', 'urn:xmpp:fasten:0')!;
    assert.is(a0.attrs.id, sid);
    assert.is(a0.getChild('moderated', 'urn:xmpp:message-moderate:0')?.attrs.by, `r@${HOST}/Owner`);
    assert.is(m.getChild('retract', 'urn:xmpp:message-retract:1')?.attrs.id, sid);
  }
  const og = owner.take();
  assert.is(og.find((s) => s.name === 'iq')?.attrs.type, 'result');
  const carol = h.session('carol@localhost/c');
  join(carol, 'r', 'Carol');
  const hist = carol.take().filter((s) => s.name === 'message' && s.getChild('delay'));
  assert.is(hist.length, 1);
  assert.not.ok(hist[0].getChild('body'), 'retracted body gone from history');
  assert.ok(hist[0].getChild('retracted', 'urn:xmpp:message-retract:1'));
  // current form
  owner.take();
  alice.take();
  bob.take();
  alice.out(`<message type="groupchat" to="r@${HOST}"><body>oops</body></message>`);
  const sid2 = owner.take()[0].getChild('stanza-id')!.attrs.id;
  alice.take();
  bob.take();
  carol.take();
  owner.out(
    `<iq type="set" id="mod1" to="r@${HOST}"><moderate xmlns="urn:xmpp:message-moderate:1" id="${sid2}"><retract xmlns="urn:xmpp:message-retract:1"/></moderate></iq>`,
  );
  await tick();
  assert.is(carol.take()[0].getChild('retract', 'urn:xmpp:message-retract:1')?.attrs.id, sid2);
  // participants may not moderate
  bob.take();
  bob.out(
    `<iq type="set" id="mod2" to="r@${HOST}"><moderate xmlns="urn:xmpp:message-moderate:1" id="${sid2}"><retract xmlns="urn:xmpp:message-retract:1"/></moderate></iq>`,
  );
  await tick();
  assert.is(errorCondition(bob.take()[0]), 'forbidden');
});

test('author retraction (XEP-0424) only for own messages', async () => {
  const { owner, alice, bob } = await room3();
  alice.out(`<message type="groupchat" to="r@${HOST}"><body>typo</body></message>`);
  const sid = bob.take()[0].getChild('stanza-id')!.attrs.id;
  owner.take();
  alice.take();
  bob.out(
    `<message type="groupchat" to="r@${HOST}"><retract xmlns="urn:xmpp:message-retract:1" id="${sid}"/><body>/me retracted</body></message>`,
  );
  assert.is(errorCondition(bob.take()[0]), 'forbidden');
  alice.out(
    `<message type="groupchat" to="r@${HOST}"><retract xmlns="urn:xmpp:message-retract:1" id="${sid}"/><body>/me retracted</body></message>`,
  );
  assert.ok(bob.take()[0].getChild('retract', 'urn:xmpp:message-retract:1'));
});

test('destroy with reason and alternate venue', async () => {
  const { h, owner, alice } = await room3();
  owner.out(
    `<iq type="set" id="d" to="r@${HOST}"><query xmlns="http://jabber.org/protocol/muc#owner"><destroy jid="other@${HOST}"><reason>bye</reason></destroy></query></iq>`,
  );
  await tick();
  const a = alice.take();
  assert.is(a.length, 1, 'each occupant sees only its own unavailable');
  const d = a[0].getChild('x', 'http://jabber.org/protocol/muc#user')!.getChild('destroy')!;
  assert.is(d.attrs.jid, `other@${HOST}`);
  assert.is(d.getChildText('reason'), 'bye');
  assert.equal(codes(a[0]), ['110']);
  const o = owner.take();
  assert.is(o[o.length - 1].attrs.type, 'result');
  assert.not.ok(h.muc.getRoom('r'));
});

test('self-ping answered by the room; private messages per allowpm', async () => {
  const { owner, alice, bob } = await room3();
  bob.out(`<iq type="get" id="p1" to="r@${HOST}/Bob"><ping xmlns="urn:xmpp:ping"/></iq>`);
  assert.is(bob.take()[0].attrs.type, 'result');
  const c = owner;
  void c;
  bob.out(`<message type="chat" to="r@${HOST}/Alice"><body>psst</body></message>`);
  const pm = alice.take()[0];
  assert.is(pm.attrs.from, `r@${HOST}/Bob`);
  assert.ok(pm.getChild('x', 'http://jabber.org/protocol/muc#user'));
  submitConfig(owner, 'r', { 'muc#roomconfig_allowpm': 'moderators' });
  await tick();
  bob.take();
  alice.take();
  owner.take();
  bob.out(`<message type="chat" to="r@${HOST}/Alice"><body>psst</body></message>`);
  assert.is(errorCondition(bob.take()[0]), 'forbidden');
  assert.is(alice.take().length, 0);
  owner.out(`<message type="chat" to="r@${HOST}/Bob"><body>hello</body></message>`);
  assert.is(bob.take()[0].getChildText('body'), 'hello');
});

test.run();
