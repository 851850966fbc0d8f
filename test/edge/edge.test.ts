// websocket.edge = process: real clients over WebSocket whose framing runs in the edge child process, chatting with
// clients the main process serves itself (WebSocket over TLS, BOSH); stream errors, resumption, the edge dying and
// the server stopping.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer as createHttps, type Server } from 'node:https';
import { createServer as createHttp } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient, type Stanza } from '../helpers/xmpp-client.js';
import { anonymousRaw } from '../helpers/raw-ws.js';
import { assertEachAddressed } from '../helpers/room-viewers.js';
import { RawBosh, payloads } from '../bosh/raw.js';
import { generateSelfSigned } from '../../src/certs/index.js';
import { validateConfig } from '../../src/config.js';
import { until } from '../helpers/until.js';

// The TLS WebSocket in these tests uses a self-signed certificate.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

let srv: TestServer;
let https: Server;
let wssUrl: string;
const clients: TestClient[] = [];
const ROOM = 'edge@room.localhost';

const edgeOf = () => srv.server.edge!;
const STREAM_ERR = (cond: string) =>
  new RegExp(`<stream:error[^>]*>.*<${cond} xmlns="urn:ietf:params:xml:ns:xmpp-streams"`, 's');

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function client(o: Partial<Parameters<typeof connectClient>[0]> = {}): Promise<TestClient> {
  const c = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost', ...o });
  clients.push(c);
  return c;
}

async function joinRoom(c: TestClient, nick: string): Promise<void> {
  await c.send(xml('presence', { to: `${ROOM}/${nick}` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
  await c.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${ROOM}/${nick}` && !s.attrs.type,
    10_000,
    `${nick}'s own presence`,
  );
}

const bodyIs = (text: string) => (s: Stanza) => s.is('message') && s.getChildText('body') === text;

test.before(async () => {
  srv = await startTestServer({ testMode: true, websocket: { edge: 'process' } });
  // TLS upgrades stay in-process: an HTTPS server mounting the same server is our in-process WebSocket peer.
  const { certPem, keyPem } = await generateSelfSigned({ names: ['localhost'], bits: 1024 });
  https = createHttps({ cert: certPem, key: keyPem }, (req, res) => {
    if (!srv.server.handleRequest(req, res)) res.writeHead(404).end();
  });
  https.on('upgrade', (req, socket, head) => {
    if (!srv.server.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', () => r()));
  wssUrl = `wss://localhost:${(https.address() as AddressInfo).port}/xmpp-websocket`;
});

test.after(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  https?.closeAllConnections();
  https?.close();
  if (srv) await srv.stop();
});

test('websocket.edge is validated, naming the field, and off by default', () => {
  assert.is(validateConfig({}).websocket.edge, 'off');
  assert.is(validateConfig({ websocket: { edge: 'process' } }).websocket.edge, 'process');
  assert.throws(
    () => validateConfig({ websocket: { edge: 'thread' } }),
    /websocket\.edge: must be one of off, process/,
  );
  assert.throws(() => validateConfig({ websocket: { edgee: 'process' } }), /websocket\.edgee: unknown setting/);
});

test('anonymous and password logins are served through the edge process', async () => {
  assert.ok(edgeOf().ready, 'the edge process runs once the server started');
  const before = edgeOf().connections;
  const viewer = await client();
  const alice = await client({ domain: 'localhost', username: 'alice', password: 'secret' });
  assert.match(viewer.jid, /@anon\.localhost\//);
  assert.match(alice.jid, /^alice@localhost\//);
  assert.is(edgeOf().connections, before + 2, 'both connections are held by the edge');
  const pong = await alice.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  assert.is(pong.attrs.type, 'result');
  await viewer.stop();
  await alice.stop();
  await until('the edge to drop both connections', () => edgeOf().connections === before, 20_000, 20);
});

test('upgrades from another HTTP server (as PeerTube mounts handleUpgrade) go to the edge, busy main process or not', async () => {
  // Busy right after each handoff (a fan-out, a certificate being made): the edge answers the handshake meanwhile
  // and the client's first frame may arrive before this process has let go of the socket.
  const busy = createHttp();
  busy.on('upgrade', (req, socket, head) => {
    srv.server.handleUpgrade(req, socket, head);
    const until = Date.now() + 150;
    while (Date.now() < until);
  });
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const url = `ws://127.0.0.1:${(busy.address() as AddressInfo).port}/xmpp-websocket`;
  try {
    const before = edgeOf().connections;
    for (let i = 0; i < 6; i++) {
      const raw = await anonymousRaw(url);
      assert.match(raw.frames.join(''), /<jid>/);
      assert.is(edgeOf().connections, before + 1, 'held by the edge');
      raw.close();
      await until('the edge to let go of it', () => edgeOf().connections === before, 20_000, 20);
    }
  } finally {
    busy.close();
  }
});

test('the client address behind a trusted proxy is resolved before the handoff', async () => {
  const c = await client({ localAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.7' } });
  assert.is(srv.server.router.sessionFor(c.jid)?.remoteAddress, '203.0.113.7');
  await c.stop();
});

test('an edge viewer, an in-process TLS WebSocket viewer and a BOSH viewer chat in one room', async () => {
  const atEdge = await client();
  const edgeCount = edgeOf().connections;
  const inProcess = await client({ service: wssUrl });
  assert.is(edgeOf().connections, edgeCount, 'the TLS connection is not the edge’s');
  assert.ok(srv.server.router.sessionFor(inProcess.jid), 'TLS viewer bound');
  await joinRoom(atEdge, 'edgy');
  await joinRoom(inProcess, 'local');

  const bosh = new RawBosh(`${srv.httpUrl}/http-bind`);
  await bosh.login();
  const boshSeen: string[] = [];
  const boshPoll = async (want: string): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while (!boshSeen.includes(want)) {
      if (Date.now() > deadline) throw new Error(`BOSH viewer never got "${want}" (got ${boshSeen.join(', ')})`);
      const r = await bosh.send();
      for (const p of payloads(r)) {
        const body = p.name === 'message' ? p.getChildText('body') : null;
        if (body) boshSeen.push(body);
      }
    }
  };
  await bosh.send(
    `<presence xmlns='jabber:client' to='${ROOM}/boshy'><x xmlns='http://jabber.org/protocol/muc'/></presence>`,
  );

  await atEdge.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, 'from the edge')));
  await inProcess.waitFor(bodyIs('from the edge'), 10_000, 'edge message at the TLS viewer');
  await atEdge.waitFor(bodyIs('from the edge'), 10_000, 'edge message echoed');
  await boshPoll('from the edge');

  await inProcess.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, 'from in-process')));
  await atEdge.waitFor(bodyIs('from in-process'), 10_000, 'in-process message at the edge viewer');
  await boshPoll('from in-process');

  await bosh.send(`<message xmlns='jabber:client' to='${ROOM}' type='groupchat'><body>from BOSH</body></message>`);
  await atEdge.waitFor(bodyIs('from BOSH'), 10_000, 'BOSH message at the edge viewer');
  await inProcess.waitFor(bodyIs('from BOSH'), 10_000, 'BOSH message at the TLS viewer');
  await atEdge.stop();
  await inProcess.stop();
});

test('room messages reach edge viewers as bytes: each one addressed to its own full JID, escaped or not ASCII, text intact', async () => {
  // The fan-out hands the edge the room's shared bytes and each viewer's escaped JID (no string per recipient).
  const odd = await client({ domain: 'localhost', username: 'alice', password: 'secret', resource: `a&b<c>'"d` });
  // An address with more UTF-8 bytes than characters crosses the pipe as it is.
  const unicode = await client({ domain: 'localhost', username: 'alice', password: 'secret', resource: 'ünï ✓' });
  const plain = await client();
  assert.ok(odd.jid.endsWith(`/a&b<c>'"d`), `bound as ${odd.jid}`);
  await joinRoom(odd, 'odd');
  await joinRoom(unicode, 'unicode');
  await joinRoom(plain, 'plain');
  const text = 'héllo & <bye> "ünïcode" ✓';
  await plain.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, text)));
  await assertEachAddressed(
    [
      [odd, 'the viewer with an odd resource'],
      [unicode, 'the viewer with a non-ASCII resource'],
      [plain, 'the sender'],
    ],
    text,
    `${ROOM}/plain`,
  );
  await unicode.stop();
  await odd.stop();
  await plain.stop();
});

test("a fan-out crosses the pipe to the edge once, with each viewer's JID: every viewer gets its own copy", async () => {
  const viewers = [
    await client(),
    await client({ domain: 'localhost', username: 'alice', password: 'secret', resource: 'r&<1>' }),
    await client(),
    await client(),
  ];
  for (const [i, v] of viewers.entries()) await joinRoom(v, `fan${i}`);
  const stats = srv.server.edge!.stats!;
  const big = 'x'.repeat(3000);
  const bytes0 = stats.bytesOut;
  await viewers[0]!.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, `${big} one`)));
  for (const v of viewers) {
    const got = await v.waitFor(bodyIs(`${big} one`), 10_000, `the long message at ${v.jid}`);
    assert.is(got.attrs.to, v.jid, 'addressed to its own full JID');
  }
  const crossed = stats.bytesOut - bytes0;
  assert.ok(crossed < 2 * big.length, `${crossed} bytes crossed the pipe for 4 copies of a ${big.length}-byte body`);
  // Two fan-outs at once (their records in one batch): each viewer gets both, each addressed to it.
  await Promise.all([
    viewers[1]!.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, 'two'))),
    viewers[2]!.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, 'three'))),
  ]);
  for (const v of viewers) {
    for (const [body, nick] of [
      ['two', 'fan1'],
      ['three', 'fan2'],
    ]) {
      const got = await v.waitFor(bodyIs(body!), 10_000, `"${body}" at ${v.jid}`);
      assert.is(got.attrs.to, v.jid);
      assert.is(got.attrs.from, `${ROOM}/${nick}`);
    }
  }
  for (const v of viewers) await v.stop();
});

test('stream management: a viewer whose edge connection drops resumes and gets what it missed', async () => {
  const viewer = await client({ reconnect: true });
  const sender = await client();
  await viewer.send(xml('presence'));
  await viewer.waitFor((s) => s.is('presence') && s.attrs.from === viewer.jid);
  assert.ok(viewer.xmpp.streamManagement.id, 'resumption offered');
  const session = srv.server.router.sessionFor(viewer.jid);
  const resumed = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no resumed event within 15 s')), 15_000);
    viewer.xmpp.streamManagement.once('resumed', () => {
      clearTimeout(t);
      resolve();
    });
  });
  viewer.xmpp.socket.socket.terminate(); // the network goes away: no <close/>
  for (let i = 1; i <= 3; i++)
    await sender.send(xml('message', { to: viewer.jid, type: 'chat' }, xml('body', {}, `away ${i}`)));
  await resumed;
  for (let i = 1; i <= 3; i++) await viewer.waitFor(bodyIs(`away ${i}`), 10_000, `message ${i} after resuming`);
  assert.is(srv.server.router.sessionFor(viewer.jid), session, 'the same session carries on');
  assert.is(viewer.received.filter(bodyIs('away 2')).length, 1, 'no duplicates');
  await viewer.stop();
  await sender.stop();
});

test('stanzas of every WebSocket length encoding (7-bit, 16-bit, 64-bit) arrive intact through the edge', async () => {
  const a = await client();
  const b = await client();
  for (const size of [100, 1000, 70_000, 200_000]) {
    const text = `${size}:` + 'é'.repeat(size / 2);
    await a.send(xml('message', { to: b.jid, type: 'chat' }, xml('body', {}, text)));
    const got = await b.waitFor((s) => (s.getChildText('body') ?? '').startsWith(`${size}:`), 10_000, `${size}`);
    assert.is(got.getChildText('body'), text, `${size} characters arrived unchanged`);
  }
  await a.stop();
  await b.stop();
});

test('a 1 MB stanza ends the stream with policy-violation, and the server keeps serving', async () => {
  const witness = await client();
  const big = await anonymousRaw(srv.wsUrl);
  big.send(`<message xmlns="jabber:client" to="${witness.jid}"><body>${'x'.repeat(1024 * 1024)}</body></message>`);
  await big.waitFor(STREAM_ERR('policy-violation'), 10_000);
  await big.waitFor(/<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/, 10_000);
  const code = await big.closed;
  assert.is(code, 1000, 'closed normally after the stream error');
  const sender = await client();
  await sender.send(xml('message', { to: witness.jid, type: 'chat' }, xml('body', {}, 'still here')));
  await witness.waitFor(bodyIs('still here'), 10_000);
  assert.not.ok(witness.received.some((s) => (s.getChildText('body') ?? '').startsWith('xxxx')));
  await witness.stop();
  await sender.stop();
});

test('killing the edge process closes its clients; the server serves on and starts a new edge', async () => {
  const victim = await client();
  const pid = edgeOf().pid!;
  const generations = edgeOf().generations;
  const offline = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the client never saw its connection close')), 15_000);
    victim.xmpp.once('disconnect', () => {
      clearTimeout(t);
      resolve();
    });
  });
  process.kill(pid, 'SIGKILL');
  await offline;
  // The server noticed: the session ended, or waits for a resumption (stream management) without a connection.
  const state = () => (srv.server.router.sessionFor(victim.jid) as unknown as { state: string } | undefined)?.state;
  await until(
    'the session to lose its connection',
    () => state() === undefined || state() === 'hibernating',
    30_000,
    20,
  );
  await until('a new edge', () => edgeOf().ready && edgeOf().generations > generations, 30_000, 20);
  assert.is.not(edgeOf().pid, pid);
  const next = await client();
  assert.is(edgeOf().connections, 1, 'the new connection is held by the new edge');
  await next.send(xml('message', { to: next.jid, type: 'chat' }, xml('body', {}, 'hello again')));
  await next.waitFor(bodyIs('hello again'), 10_000);
  await next.stop();
});

test('stopping the server leaves no edge process behind', async () => {
  const c = await client();
  const pid = edgeOf().pid!;
  assert.ok(processAlive(pid));
  await Promise.all(clients.map((x) => x.stop()));
  clients.length = 0;
  void c;
  await srv.stop();
  assert.not.ok(processAlive(pid), `edge process ${pid} still alive after stop()`);
  assert.is(srv.server.edge!.pid, undefined);
  // Stopped twice: nothing left to stop.
  await srv.server.stop();
  srv = undefined as unknown as TestServer;
});

test.run();
