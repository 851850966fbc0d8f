// What an idle viewer's connection makes only when first needed still works when it is needed: stream management
// enabled by a viewer that sat in a room for a while (acks, then resuming a dropped stream), directed presence to
// several rooms (one string, a set past one, back to one), and the entry-bounded caches that grow as they fill.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { anonymousRaw, jidOf, resumeRaw, type RawWs } from '../helpers/raw-ws.js';
import { boundedLru } from '../../src/bounded-lru.js';

let srv: TestServer;
const clients: TestClient[] = [];
const raws: RawWs[] = [];

test.before(async () => {
  srv = await startTestServer({ streamManagement: { resumeTimeoutSeconds: 60 } });
});
test.after(async () => {
  for (const r of raws) r.close();
  await Promise.all(clients.map((c) => c.stop()));
  await srv.stop();
});

async function viewer(): Promise<{ raw: RawWs; jid: string }> {
  const raw = await anonymousRaw(srv.wsUrl);
  raws.push(raw);
  const jid = jidOf(raw);
  return { raw, jid };
}

async function joinRaw(raw: RawWs, room: string, nick: string): Promise<void> {
  raw.send(
    `<presence xmlns="jabber:client" to="${room}/${nick}"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
  );
  await raw.waitFor(new RegExp(`from="${room}/${nick}"[^>]*>.*status code="110"`), 10_000);
}

async function observer(room: string, nick: string): Promise<TestClient> {
  const c = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  clients.push(c);
  await c.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
  await c.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/${nick}`, 10_000, `${nick} joined ${room}`);
  return c;
}

const isStanza = (f: string) => /^<(message|presence|iq)[\s>]/.test(f);

test('a viewer seated idle enables stream management later: acks count from then, a dropped stream resumes', async () => {
  const room = 'smlater@room.localhost';
  const talker = await observer(room, 'talker');
  const { raw } = await viewer();
  await joinRaw(raw, room, 'idler');
  await talker.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, 'before sm')));
  await raw.waitFor(/before sm/);

  raw.send('<enable xmlns="urn:xmpp:sm:3" resume="true"/>');
  const enabled = await raw.waitFor(/<enabled /);
  const id = /id="([^"]+)"/.exec(enabled)![1]!;
  const afterEnable = raw.frames.length;
  raw.send('<r xmlns="urn:xmpp:sm:3"/>');
  assert.match(await raw.waitFor(/<a /), /h="0"/, 'nothing handled since enable');
  raw.send('<iq xmlns="jabber:client" type="get" id="p1"><ping xmlns="urn:xmpp:ping"/></iq>');
  await raw.waitFor(/id="p1"/);
  raw.send('<r xmlns="urn:xmpp:sm:3"/>');
  await raw.waitFor(/<a [^>]*h="1"/);

  await talker.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, 'with sm')));
  await raw.waitFor(/with sm/);
  const h = raw.frames.slice(afterEnable).filter(isStanza).length;
  raw.close(); // the network drops: no <close/>
  await raw.closed;
  await talker.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, 'while away')));

  const again = await resumeRaw(srv.wsUrl, id, h);
  raws.push(again);
  await again.waitFor(/while away/, 10_000);
  assert.not.ok(
    again.frames.some((f) => /with sm/.test(f)),
    'what the viewer acknowledged is not sent again',
  );
  await talker.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, 'after resume')));
  await again.waitFor(/after resume/);
});

test('directed presence to three rooms, two left: when the viewer drops, only the third room sees it go', async () => {
  const rooms = ['dir-a@room.localhost', 'dir-b@room.localhost', 'dir-c@room.localhost'];
  const watchers = await Promise.all(rooms.map((r, i) => observer(r, `watch${i}`)));
  const { raw } = await viewer();
  for (const r of rooms) await joinRaw(raw, r, 'wanderer');
  for (const r of rooms.slice(0, 2)) {
    raw.send(`<presence xmlns="jabber:client" to="${r}/wanderer" type="unavailable"/>`);
    await raw.waitFor(
      new RegExp(`from="${r}/wanderer"[^>]*type="unavailable"|type="unavailable"[^>]*from="${r}/wanderer"`),
    );
  }
  raw.close();
  await raw.closed;
  const gone = (r: string) => (s: ReturnType<typeof xml>) =>
    s.is('presence') && s.attrs.from === `${r}/wanderer` && s.attrs.type === 'unavailable';
  await watchers[2]!.waitFor(gone(rooms[2]!), 10_000, 'the third room sees the viewer leave');
  // The rooms it left explicitly saw that one leave and no second one: the server wrote any second one in the same
  // turn as the third room's, so it would be on the socket before the answer to a ping sent now.
  for (const i of [0, 1]) {
    await watchers[i]!.send(
      xml('iq', { type: 'get', id: `ping${i}`, to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
    );
    await watchers[i]!.waitFor((s) => s.attrs.id === `ping${i}`, 10_000, `ping ${i} answered`);
    assert.is(watchers[i]!.received.filter(gone(rooms[i]!)).length, 1, `room ${i}: one unavailable`);
  }
  const session = srv.server.router.sessionFor(jidOf(raw));
  assert.is(session, undefined, 'the session ended');
});

test('entry-bounded caches keep at most N entries, least recently used evicted first, ttl honoured', async () => {
  const c = boundedLru<string, number>(3);
  for (const k of ['a', 'b', 'c']) c.set(k, 1);
  c.get('a'); // a is now the most recent
  c.set('d', 1);
  assert.equal([...c.keys()].sort(), ['a', 'c', 'd'], 'b, the least recently used, went');
  for (let i = 0; i < 1000; i++) c.set(`k${i}`, i);
  assert.is(c.size, 3);
  assert.equal([...c.keys()].sort(), ['k997', 'k998', 'k999']);

  const t = boundedLru<string, number>(10, { ttl: 30 });
  t.set('x', 1);
  assert.is(t.get('x'), 1);
  await new Promise((r) => setTimeout(r, 80));
  assert.is(t.get('x'), undefined, 'expired');
});

test.run();
