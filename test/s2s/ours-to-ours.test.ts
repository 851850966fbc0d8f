// Two instances of our server talking S2S through a test DNS server (dnsmasq): messages both ways, dialback in
// every role, bounces for unreachable domains, and raw streams that try to inject without (or with forged) dialback.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pickDnsPort, startDns, type TestDns } from './helpers/dns.js';
import { startOurs, type S2sTestServer } from './helpers/ours.js';
import { rawS2s, header } from './helpers/raw-s2s.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';

let dns: TestDns;
let a: S2sTestServer;
let b: S2sTestServer;
const clients: TestClient[] = [];
const anonOn = (s: S2sTestServer) =>
  connectClient({ service: s.wsUrl, domain: `anon.${s.domain}` }).then((c) => (clients.push(c), c));
const online = async (c: TestClient) => {
  await c.send(xml('presence'));
  await c.waitFor((s) => s.is('presence') && s.attrs.from === c.jid, 3000, 'own presence');
};

test.before(async () => {
  const port = await pickDnsPort();
  a = await startOurs('a.example', `127.0.0.1:${port}`);
  b = await startOurs('b.example', `127.0.0.1:${port}`);
  const ra = a.records();
  const rb = b.records();
  dns = await startDns(port, { hosts: { ...ra.hosts, ...rb.hosts }, srv: [...ra.srv, ...rb.srv] });
});

test.after(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await a?.stop();
  await b?.stop();
  await dns?.stop();
});

test('a chat message crosses from a.test to b.test and a reply comes back', async () => {
  const alice = await anonOn(a);
  const bob = await anonOn(b);
  await online(alice);
  await online(bob);
  await alice.send(xml('message', { to: bob.jid, type: 'chat', id: 'x1' }, xml('body', {}, 'hello from a')));
  const m = await bob.waitFor(
    (s) => s.is('message') && s.getChildText('body') === 'hello from a',
    10000,
    'message over s2s',
  );
  assert.is(m.attrs.from, alice.jid);
  await bob.send(xml('message', { to: alice.jid, type: 'chat', id: 'x2' }, xml('body', {}, 'hello from b')));
  const r = await alice.waitFor(
    (s) => s.is('message') && s.getChildText('body') === 'hello from b',
    10000,
    'reply over s2s',
  );
  assert.is(r.attrs.from, bob.jid);
  // Each side dialled out once for the pair, over TLS, authenticated by dialback (self-signed certificates).
  const outA = a.server.s2s!.status().outgoing.find((o) => o.remote === `anon.${b.domain}`)!;
  assert.is(outA.state, 'ready');
  assert.is(outA.auth, 'dialback');
  assert.ok(outA.secure);
  const inB = b.server.s2s!.status().incoming.find((i) => i.verified.includes(`anon.${a.domain}|anon.${b.domain}`));
  assert.ok(inB, 'b verified a on an incoming stream');
});

test('further messages reuse the same stream', async () => {
  const alice = await anonOn(a);
  const bob = await anonOn(b);
  await online(bob);
  const before = a.server.s2s!.status().outgoing.filter((o) => o.remote === `anon.${b.domain}`).length;
  for (let i = 0; i < 5; i++) await alice.send(xml('message', { to: bob.jid, type: 'chat' }, xml('body', {}, `n${i}`)));
  await bob.waitFor((s) => s.getChildText('body') === 'n4', 10000, 'fifth message');
  assert.is(a.server.s2s!.status().outgoing.filter((o) => o.remote === `anon.${b.domain}`).length, before);
});

test('a message to a domain nobody serves bounces with remote-server-not-found', async () => {
  const alice = await anonOn(a);
  await alice.send(
    xml('message', { to: 'someone@nowhere.example', type: 'chat', id: 'nf1' }, xml('body', {}, 'anyone?')),
  );
  const e = await alice.waitFor(
    (s) => s.is('message') && s.attrs.type === 'error' && s.attrs.id === 'nf1',
    10000,
    'bounce',
  );
  assert.ok(e.getChild('error')?.getChild('remote-server-not-found'), e.toString());
});

test("a remote user reads a room's archive: the MAM results cross S2S as the room's prepared results", async () => {
  const alice = await anonOn(a);
  const bob = await anonOn(b);
  const room = `mam@room.${a.domain}`;
  await alice.send(xml('presence', { to: `${room}/alice` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
  await alice.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/alice`, 10000, 'alice in the room');
  for (const body of ['one & "two"', 'three <four>']) {
    await alice.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, body)));
    await alice.waitFor((s) => s.is('message') && s.getChildText('body') === body, 10000, 'reflection');
  }
  const start = bob.received.length;
  const fin = await bob.iq(
    xml('iq', { type: 'set', to: room, id: 'mam1' }, xml('query', { xmlns: 'urn:xmpp:mam:2', queryid: 'q&1' })),
    10000,
  );
  assert.ok(fin.getChild('fin', 'urn:xmpp:mam:2'), fin.toString());
  const results = bob.received.slice(start).filter((s) => s.getChild('result', 'urn:xmpp:mam:2'));
  assert.is(results.length, 2);
  for (const r of results) {
    assert.is(r.attrs.from, room);
    assert.is(r.attrs.to, bob.jid);
    assert.is(r.getChild('result')!.attrs.queryid, 'q&1');
  }
  const inner = (r: (typeof results)[number]) =>
    r.getChild('result')!.getChild('forwarded', 'urn:xmpp:forward:0')!.getChild('message')!;
  assert.equal(
    results.map((r) => inner(r).getChildText('body')),
    ['one & "two"', 'three <four>'],
  );
  assert.is(inner(results[0]!).attrs.from, `${room}/alice`);
});

test('a raw stream that skips dialback cannot inject a message', async () => {
  const bob = await anonOn(b);
  await online(bob);
  // Pretend to be a.example's user, straight to b's listener.
  const c = await rawS2s(b.s2sPort);
  c.write(header(`anon.${a.domain}`, `anon.${b.domain}`));
  await c.waitFor(/<\/stream:features>|<stream:features\/>/);
  c.write(
    `<message xmlns='jabber:server' from='${'evil@anon.' + a.domain}/x' to='${bob.jid}' type='chat'><body>injected</body></message>`,
  );
  const text = await c.waitFor(/not-authorized/);
  assert.match(text, /<stream:error[^>]*>.*not-authorized/s);
  await c.closed;
  await new Promise((r) => setTimeout(r, 300));
  assert.not.ok(
    bob.received.some((s) => s.getChildText('body') === 'injected'),
    'the message must not arrive',
  );
});

test('a forged dialback key is rejected and the stream still cannot send', async () => {
  const bob = await anonOn(b);
  await online(bob);
  const c = await rawS2s(b.s2sPort);
  c.write(header(`anon.${a.domain}`, `anon.${b.domain}`));
  await c.waitFor(/<\/stream:features>|<stream:features\/>/);
  c.write(`<db:result from='anon.${a.domain}' to='anon.${b.domain}'>${'ab'.repeat(32)}</db:result>`);
  // b asks a's authoritative server, which denies having issued the key.
  await c.waitFor(/<db:result[^>]*type=["']invalid["']/, 10000);
  c.write(
    `<message xmlns='jabber:server' from='evil@anon.${a.domain}/x' to='${bob.jid}' type='chat'><body>forged</body></message>`,
  );
  await c.waitFor(/not-authorized/);
  await c.closed;
  await new Promise((r) => setTimeout(r, 300));
  assert.not.ok(bob.received.some((s) => s.getChildText('body') === 'forged'));
});

test('a verified pair does not open other domains: a stanza from another domain ends the stream', async () => {
  const bob = await anonOn(b);
  await online(bob);
  const alice = await anonOn(a);
  await online(alice);
  // Get a genuine pair verified first (alice → bob), then speak on a raw stream as a different, unverified domain.
  const c = await rawS2s(b.s2sPort);
  c.write(header('evil.example', `anon.${b.domain}`));
  await c.waitFor(/<\/stream:features>|<stream:features\/>/);
  c.write(`<message xmlns='jabber:server' from='x@anon.${a.domain}/r' to='${bob.jid}'><body>spoof</body></message>`);
  await c.waitFor(/not-authorized/);
  assert.not.ok(bob.received.some((s) => s.getChildText('body') === 'spoof'));
});

test('a db:verify for a key we never issued is answered invalid (authoritative role)', async () => {
  const c = await rawS2s(a.s2sPort);
  c.write(header(`anon.${b.domain}`, `anon.${a.domain}`));
  await c.waitFor(/<\/stream:features>|<stream:features\/>/);
  c.write(`<db:verify from='anon.${b.domain}' to='anon.${a.domain}' id='someid'>${'cd'.repeat(32)}</db:verify>`);
  const t = await c.waitFor(/<db:verify[^>]*type=/);
  assert.match(t, /<db:verify[^>]*type=["']invalid["']/);
  c.destroy();
});

test.run();
