// A room's message fan-out walks a list of its sessions kept between messages (fanout-list.ts). Whatever happens to
// the room and to the sessions between two messages, or during one, each message reaches every session in the room
// exactly once, and no session that left or ended.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'ltx';
import type { Element } from '../../src/xmpp/xml.js';
import type { Router } from '../../src/xmpp/router.js';
import { harness, join, codes, FakeSession, HOST, type Harness } from './helpers.js';

const ROOM = `r@${HOST}`;
const isChat = (body: string) => (s: Element) => s.name === 'message' && s.getChildText('body') === body;

let counter = 0;
/** Sends a room message from `from` and returns, per session, how many copies it received. */
function say(from: FakeSession, everyone: FakeSession[]): Map<FakeSession, number> {
  const body = `m${++counter}`;
  from.out(`<message type="groupchat" to="${ROOM}" id="${body}"><body>${body}</body></message>`);
  return new Map(everyone.map((s) => [s, s.takeWhere(isChat(body)).length]));
}

function assertReached(got: Map<FakeSession, number>, present: FakeSession[], what: string): void {
  for (const [s, n] of got) {
    const expected = present.includes(s) ? 1 : 0;
    assert.is(n, expected, `${what}: ${s.fullJid} got ${n} copies, expected ${expected}`);
  }
}

function leave(s: FakeSession, nick: string): void {
  s.out(`<presence type="unavailable" to="${ROOM}/${nick}"/>`);
}

test('joins, leaves, nick changes and second sessions between messages: each message reaches exactly who is in', async () => {
  const h = await harness();
  const a = h.session('a@localhost/1');
  const b = h.session('b@anon.localhost/x');
  const c = h.session('c@anon.localhost/y');
  const c2 = h.session('c@anon.localhost/z');
  const d = h.session('d@localhost/1');
  const all = [a, b, c, c2, d];
  join(a, 'r', 'A');
  assertReached(say(a, all), [a], 'alone');
  join(b, 'r', 'B');
  join(c, 'r', 'C');
  assertReached(say(b, all), [a, b, c], 'after two joins');
  join(c2, 'r', 'C'); // a second session under the same nick
  assertReached(say(a, all), [a, b, c, c2], 'after a second session');
  b.out(`<presence to="${ROOM}/Bee"/>`); // nick change
  assertReached(say(b, all), [a, b, c, c2], 'after a nick change');
  leave(c, 'C'); // one session of two leaves
  assertReached(say(a, all), [a, b, c2], 'after one session left');
  join(d, 'r', 'D');
  leave(a, 'A');
  assertReached(say(d, all), [b, c2, d], 'after a join and a leave');
  c2.out(`<presence to="${ROOM}/See"/>`);
  join(a, 'r', 'A');
  assertReached(say(c2, all), [a, b, c2, d], 'after a rejoin');
});

test('a session that ended without leaving gets nothing; the next message removes it (333)', async () => {
  const h = await harness();
  const a = h.session('a@localhost/1');
  const b = h.session('b@anon.localhost/x');
  const c = h.session('c@anon.localhost/y');
  join(a, 'r', 'A');
  join(b, 'r', 'B');
  join(c, 'r', 'C');
  assertReached(say(a, [a, b, c]), [a, b, c], 'all three');
  for (const s of [a, b, c]) s.take();
  h.router.unbind(b); // the connection is gone; the room was not told
  assertReached(say(a, [a, b, c]), [a, c], 'after b ended');
  for (const s of [a, c]) {
    const gone = s.take().find((x) => x.name === 'presence' && x.attrs.from === `${ROOM}/B`);
    assert.ok(gone, `${s.fullJid} learns that B left`);
    assert.is(gone!.attrs.type, 'unavailable');
    assert.ok(codes(gone!).includes('333'), 'as a session that vanished (333)');
  }
  assert.equal(b.take(), [], 'nothing more reaches the ended session');
  assert.is(h.muc.getRoom('r')!.occupantCount, 2);
});

test('a full JID bound by a new connection: the room sends to the new one', async () => {
  const h = await harness();
  const a = h.session('a@localhost/1');
  const b = h.session('b@localhost/phone');
  join(a, 'r', 'A');
  join(b, 'r', 'B');
  say(a, [a, b]);
  const b2 = new FakeSession('b@localhost/phone', h.router);
  assert.is(h.router.bind(b2), b, 'the new connection replaces the old one');
  const got = say(a, [a, b, b2]);
  assert.is(got.get(b2), 1, 'the new connection gets the message');
  assert.is(got.get(b), 0, 'the replaced one does not');
});

/** A session whose connection fails when a room message reaches it, as a c2s session dropped for not reading does. */
class DroppedOnMessage extends FakeSession {
  /** Set once it is in the room (the subject on join is a message too). */
  armed = false;
  constructor(
    full: string,
    private readonly r: Router,
    private readonly tellRooms: boolean,
  ) {
    super(full, r);
  }
  override sendRaw(xml: string): void {
    super.sendRaw(xml);
    if (!this.armed || !xml.startsWith('<message')) return;
    this.armed = false;
    this.r.unbind(this);
    // RFC 6121 §4.6: the server leaves the rooms on the session's behalf.
    if (this.tellRooms) this.r.route(parse(`<presence type="unavailable" from="${this.fullJid}" to="${ROOM}/Drop"/>`));
  }
}

function bindDropped(h: Harness, full: string, tellRooms: boolean): DroppedOnMessage {
  const s = new DroppedOnMessage(full, h.router, tellRooms);
  h.router.bind(s);
  return s;
}

for (const tellRooms of [true, false]) {
  test(`a recipient dropped during the fan-out (${tellRooms ? 'leaving' : 'not telling'} the room): the others get the message once`, async () => {
    const h = await harness();
    const before = [h.session('a@localhost/1'), h.session('b@anon.localhost/1')];
    const dropped = bindDropped(h, 'drop@anon.localhost/1', tellRooms);
    const after = [h.session('c@anon.localhost/1'), h.session('d@anon.localhost/1')];
    before.forEach((s, i) => join(s, 'r', `B${i}`));
    join(dropped, 'r', 'Drop');
    after.forEach((s, i) => join(s, 'r', `A${i}`));
    const everyone = [...before, dropped, ...after];
    for (const s of everyone) s.take();
    dropped.armed = true;
    assertReached(say(before[0], everyone), everyone, 'the message during which one was dropped');
    const others = [...before, ...after];
    if (!tellRooms) assertReached(say(before[0], everyone), others, 'the next message');
    for (const s of others) {
      const gone = s.take().filter((x) => x.name === 'presence' && x.attrs.from === `${ROOM}/Drop`);
      assert.is(gone.length, 1, `${s.fullJid} learns once that Drop left`);
      assert.is(gone[0].attrs.type, 'unavailable');
    }
    assertReached(say(after[1], everyone), others, 'once it is gone');
    assert.is(h.muc.getRoom('r')!.occupantCount, 4);
  });
}

test('an occupant on another server gets each message once through the server-to-server route', async () => {
  const h = await harness();
  const sent: Array<{ domain: string; xml: string }> = [];
  h.router.setRemoteRoute({
    send: (s) => sent.push({ domain: 'remote.example', xml: s.toString() }),
    sendRaw: (domain, xml) => sent.push({ domain, xml }),
  });
  const a = h.session('a@localhost/1');
  join(a, 'r', 'A');
  h.router.route(
    parse(
      `<presence from="juliet@remote.example/gajim" to="${ROOM}/Juliet"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
    ),
  );
  assert.ok(
    sent.some((x) => x.xml.includes('110')),
    'the remote occupant got its self-presence',
  );
  sent.length = 0;
  a.out(`<message type="groupchat" to="${ROOM}" id="s1"><body>to the remote</body></message>`);
  const copies = sent.filter((x) => x.xml.includes('to the remote'));
  assert.is(copies.length, 1);
  assert.is(copies[0].domain, 'remote.example');
  assert.match(copies[0].xml, /to="juliet@remote\.example\/gajim"/);
  assert.is(a.takeWhere(isChat('to the remote')).length, 1, 'the sender gets its reflection');
  h.router.route(parse(`<presence type="unavailable" from="juliet@remote.example/gajim" to="${ROOM}/Juliet"/>`));
  sent.length = 0;
  a.out(`<message type="groupchat" to="${ROOM}" id="s2"><body>after</body></message>`);
  assert.equal(sent, [], 'nothing goes to a remote occupant that left');
});

test.run();
