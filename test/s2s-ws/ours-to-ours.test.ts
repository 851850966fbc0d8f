// Two instances of this server federating over WebSocket S2S only (no TCP S2S listener on either): A finds B through
// `s2s.websocket.routes`, B finds A through a livechat-style serverInfos folder. Then raw peers that behave like
// livechat's Prosody (unmasked frames, legacy header, undeclared db: prefix) and peers that lie.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { roomScenario, T } from '../s2s/helpers/scenario.js';
import { rawWsS2s, legacyHeader, openFrame, frame } from './helpers/raw-ws-s2s.js';
import { DialbackKeys } from '../../src/s2s/dialback-key.js';

const SECRET_B = 'b-dialback-secret-for-tests-0123456789';
let a: TestServer;
let b: TestServer;
let infos: string;
const s2sUrl = (s: TestServer) => `ws://127.0.0.1:${s.port}/xmpp-websocket-s2s`;
const clients: TestClient[] = [];

test.before(async () => {
  infos = await mkdtemp(join(tmpdir(), 'server-infos-'));
  b = await startTestServer({
    domain: 'b.example',
    testMode: true,
    muc: { creation: 'anyone' },
    s2s: {
      dialbackSecret: SECRET_B,
      websocket: { enabled: true, serverInfosDir: infos, instanceUrl: 'https://b.example' },
    },
  });
  const toB = s2sUrl(b);
  a = await startTestServer({
    domain: 'a.example',
    testMode: true,
    muc: { creation: 'anyone' },
    s2s: { websocket: { enabled: true, routes: { 'b.example': toB, 'anon.b.example': toB, 'room.b.example': toB } } },
  });
  // What livechat's plugin writes for a remote instance: one folder per XMPP domain of that instance.
  for (const host of ['a.example', 'anon.a.example', 'room.a.example']) {
    await mkdir(join(infos, host));
    await writeFile(join(infos, host, 'ws-s2s'), JSON.stringify({ host: 'a.example', url: s2sUrl(a) }));
  }
});

test.after(async () => {
  for (const c of clients) await c.stop().catch(() => {});
  await a?.stop();
  await b?.stop();
  await rm(infos, { recursive: true, force: true });
});

roomScenario(test, () => ({
  transport: 'websocket',
  host: { server: a, domain: 'a.example' },
  remote: {
    domain: 'b.example',
    bare: 'bob@b.example',
    connect: () => connectClient({ service: b.wsUrl, domain: 'b.example', username: 'bob', password: 'pw' }),
  },
}));

test("the same works with the room on B: A's viewer joins it and talks to B's viewer", async () => {
  const va = await connectClient({ service: a.wsUrl, domain: 'anon.a.example' });
  const vb = await connectClient({ service: b.wsUrl, domain: 'anon.b.example' });
  clients.push(va, vb);
  const room = 'other@room.b.example';
  await vb.send(xml('presence', { to: `${room}/vb` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
  await vb.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/vb`, 5000, 'vb in');
  await va.send(xml('presence', { to: `${room}/va` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
  await va.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/va` && !s.attrs.type, T, 'va in (over S2S)');
  await va.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, 'from A to a room on B')));
  await vb.waitFor((s) => s.getChildText('body') === 'from A to a room on B', T, 'groupchat at vb');
});

test('both servers used WebSocket S2S only, authenticated by dialback', async () => {
  assert.is(a.server.s2s!.addresses, null, 'no TCP S2S listener on A');
  for (const [srv, peer] of [
    [a, 'b.example'],
    [b, 'a.example'],
  ] as const) {
    const st = srv.server.s2s!.status();
    const out = st.outgoing.filter((o) => o.remote.endsWith(peer) && o.state === 'ready');
    assert.ok(out.length > 0, JSON.stringify(st.outgoing));
    assert.ok(
      out.every((o) => o.transport === 'websocket' && o.auth === 'dialback'),
      JSON.stringify(out),
    );
    const inc = st.incoming.filter((i) => i.verified.length > 0);
    assert.ok(inc.length > 0 && inc.every((i) => i.transport === 'websocket'), JSON.stringify(st.incoming));
  }
});

const viewerOnA = async () => {
  const v = await connectClient({ service: a.wsUrl, domain: 'anon.a.example' });
  clients.push(v);
  await v.send(xml('presence'));
  await v.waitFor((s) => s.is('presence') && s.attrs.from === v.jid, 5000, 'own presence');
  return v;
};

/** A raw livechat-like peer speaking for anon.b.example, authenticated with a key B really issued. */
async function genuineLegacyPeer() {
  const c = await rawWsS2s(s2sUrl(a), { headers: { 'peertube-livechat-ws-s2s-instance-url': 'https://b.example' } });
  c.send(legacyHeader('anon.b.example', 'anon.a.example'));
  const opened = await c.waitFor(/<open /);
  const id = /<open [^>]*id="([^"]+)"/.exec(opened)![1];
  await c.waitFor(/<stream:features[^>]*xmlns:stream=[^>]*>.*urn:xmpp:features:dialback/);
  c.send(' '); // livechat may send whitespace-only frames
  const key = new DialbackKeys(SECRET_B).generate('anon.a.example', 'anon.b.example', id);
  c.send(`<db:result from='anon.b.example' to='anon.a.example'>${key}</db:result>`);
  await c.waitFor(/<db:result[^>]*type="valid"/, T);
  return c;
}

test('unmasked client frames, a legacy <stream:stream> first frame and a frame cut in pieces are accepted', async () => {
  const v = await viewerOnA();
  const c = await genuineLegacyPeer();
  // The open frame is its own frame, in the server framing namespace, and comes first.
  assert.match(c.frames[0], /^<open xmlns="urn:ietf:params:xml:ns:xmpp-framing-server"[^>]*\/>$/);
  assert.match(c.frames[1], /^<stream:features /);
  c.ping(); // unmasked ping: answered, not a protocol error
  const msg = Buffer.from(
    `<message from='x@anon.b.example/r' to='${v.jid}' type='chat'><body>unmasked and legacy</body></message>`,
  );
  const bytes = frame(1, msg, false);
  for (let i = 0; i < bytes.length; i += 7) {
    c.writeRaw(bytes.subarray(i, i + 7));
    await new Promise((r) => setImmediate(r));
  }
  const m = await v.waitFor((s) => s.getChildText('body') === 'unmasked and legacy', T, 'message from the raw peer');
  assert.is(m.attrs.from, 'x@anon.b.example/r');
  assert.ok(c.pongs >= 1, 'ping answered');
  c.send('</stream:stream>');
  assert.is(await c.closed, 1000);
});

test('unmasked frames with 16-bit and 64-bit lengths arrive whole', async () => {
  const v = await viewerOnA();
  const c = await genuineLegacyPeer();
  for (const size of [300, 70_000]) {
    const body = 'x'.repeat(size);
    c.send(`<message from='x@anon.b.example/r' to='${v.jid}' type='chat'><body>${body}</body></message>`);
    const m = await v.waitFor((s) => s.getChildText('body')?.length === size, T, `${size}-byte body`);
    assert.is(m.getChildText('body'), body);
  }
  c.destroy();
});

test('a binary frame or broken XML ends that stream with the right error; others keep working', async () => {
  const bad = await rawWsS2s(s2sUrl(a));
  bad.send(legacyHeader('anon.b.example', 'anon.a.example'));
  await bad.waitFor(/<stream:features/);
  bad.writeRaw(frame(2, Buffer.from('<message/>'), false));
  await bad.waitFor(/<stream:error[^>]*><unsupported-encoding /);
  await bad.closed;
  const broken = await rawWsS2s(s2sUrl(a));
  broken.send(openFrame('anon.b.example', 'anon.a.example'));
  await broken.waitFor(/<stream:features/);
  broken.send('<message><body>unclosed</message>');
  await broken.waitFor(/<stream:error[^>]*><not-well-formed /);
  await broken.closed;
  const v = await viewerOnA();
  const c = await genuineLegacyPeer();
  c.send(`<message from='x@anon.b.example/r' to='${v.jid}' type='chat'><body>still fine</body></message>`);
  await v.waitFor((s) => s.getChildText('body') === 'still fine', T, 'a good peer still gets through');
  c.destroy();
});

test('a stanza from a domain not verified on that socket gets not-authorized and the stream closes', async () => {
  const v = await viewerOnA();
  const c = await genuineLegacyPeer();
  c.send(`<message from='evil@b.example/r' to='${v.jid}' type='chat'><body>spoofed</body></message>`);
  await c.waitFor(/<stream:error[^>]*><not-authorized /);
  await c.waitFor(/<close xmlns="urn:ietf:params:xml:ns:xmpp-framing-server"\/>/);
  await c.closed;
  await new Promise((r) => setTimeout(r, 300));
  assert.not.ok(v.received.some((s) => s.getChildText('body') === 'spoofed'));
});

test('a forged dialback key (RFC framing, undeclared db: prefix) is type=invalid and the stream still cannot send', async () => {
  const v = await viewerOnA();
  const c = await rawWsS2s(s2sUrl(a));
  c.send(openFrame('anon.b.example', 'anon.a.example'), { masked: true });
  await c.waitFor(/<stream:features/);
  c.send(`<db:result xmlns='jabber:server' from='anon.b.example' to='anon.a.example'>${'ab'.repeat(32)}</db:result>`, {
    masked: true,
  });
  const r = await c.waitFor(/<db:result[^>]*type="invalid"/, T);
  assert.match(r, /<db:result xmlns:db="jabber:server:dialback"/, 'our frames declare the prefix');
  c.send(
    `<message xmlns='jabber:server' from='x@anon.b.example/r' to='${v.jid}' type='chat'><body>forged</body></message>`,
    { masked: true },
  );
  await c.waitFor(/not-authorized/);
  await c.closed;
  assert.not.ok(v.received.some((s) => s.getChildText('body') === 'forged'));
});

test('db:verify on an unauthenticated socket is answered (authoritative role): a key we never issued is invalid', async () => {
  const c = await rawWsS2s(s2sUrl(a));
  c.send(legacyHeader('b.example', 'a.example'));
  await c.waitFor(/<stream:features/);
  c.send(`<db:verify from='b.example' to='a.example' id='nope'>${'cd'.repeat(32)}</db:verify>`);
  await c.waitFor(/<db:verify[^>]*type="invalid"/);
  c.destroy();
});

test('an upgrade without the xmpp subprotocol is refused', async () => {
  try {
    await rawWsS2s(s2sUrl(a), { protocol: null });
    assert.unreachable('upgrade should be refused');
  } catch (e) {
    assert.match((e as Error).message, /400/);
  }
});

test.run();
