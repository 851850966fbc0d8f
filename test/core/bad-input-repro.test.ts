// The bad inputs a mutation fuzzer found, replayed byte for byte: each gets its stream error (or BOSH terminate
// condition) and the close at once, nothing is buffered without bound, and other users keep being served.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { anonymousRaw, rawWs } from '../helpers/raw-ws.js';
import { anonymousTcp, rawTcp, streamHeader } from '../helpers/raw-tcp.js';
import { RawBosh, HTTPBIND } from '../bosh/raw.js';

process.emitWarning = () => {};

const MAX = 10_000;
let srv: TestServer;
let a: TestClient;
let b: TestClient;

test.before(async () => {
  srv = await startTestServer({ limits: { maxStanzaSize: MAX }, tcp: { enabled: true, port: 0 } });
  a = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  b = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  await b.send(xml('presence'));
});
let t0 = 0;
test.before.each(() => {
  t0 = Date.now();
});
test.after.each(() => {
  if (process.env.TEST_TIMES) console.log(`  ${Date.now() - t0} ms`);
});
test.after(async () => {
  await a.stop();
  await b.stop();
  await srv.stop();
});

const tcpPort = () => srv.server.tcpAddresses()!.starttls[0].port;
const boshUrl = () => `${srv.httpUrl}/http-bind`;
const STREAM_ERR = (cond: string) =>
  new RegExp(`<stream:error[^>]*>.*<${cond} xmlns="urn:ietf:params:xml:ns:xmpp-streams"`, 's');
const WS_CLOSE = /<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/;

let n = 0;
async function stillServed(): Promise<void> {
  const body = `still here ${++n}`;
  await a.send(xml('message', { to: b.jid, type: 'chat' }, xml('body', {}, body)));
  await b.waitFor((s) => s.getChildText('body') === body, 5000, body);
}

async function wsExpect(frames: string[], cond: string, login = true): Promise<void> {
  const c = login ? await anonymousRaw(srv.wsUrl) : await rawWs(srv.wsUrl);
  for (const f of frames) c.send(f);
  await c.waitFor(STREAM_ERR(cond));
  await c.waitFor(WS_CLOSE);
  assert.is(await c.closed, 1000);
}

// ---- a bare & -------------------------------------------------------------------------------------------------

test("TCP+STARTTLS+ANONYMOUS: id='a&1' then a flood of 'a' gets not-well-formed and the close, memory stays flat", async () => {
  const c = await anonymousTcp(tcpPort());
  const rss0 = process.memoryUsage().rss;
  c.write("<iq type='get' id='a&1' to='anon.localhost'/>");
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let sent = 0;
  // Up to 20 MB (the issue used 200 MB); the server must have closed long before.
  while (!c.isClosed() && sent < 20 * 1024 * 1024) {
    c.write(chunk);
    sent += chunk.length;
    try {
      await c.drain();
    } catch {
      break;
    }
  }
  await c.closed;
  assert.match(c.text(), STREAM_ERR('not-well-formed'));
  assert.match(c.text(), /<\/stream:stream>/);
  assert.ok(sent < 4 * 1024 * 1024, `closed after ${sent} bytes of flood`);
  const grown = (process.memoryUsage().rss - rss0) / 1048576;
  assert.ok(grown < 64, `RSS grew ${grown.toFixed(1)} MB`);
  await stillServed();
});

test("WebSocket after login: <iq id='a&1'><ping/></iq> gets not-well-formed and the close", async () => {
  await wsExpect(
    ["<iq xmlns='jabber:client' type='get' id='a&1' to='anon.localhost'><ping xmlns='urn:xmpp:ping'/></iq>"],
    'not-well-formed',
  );
  await stillServed();
});

test('WebSocket after login: a frame holding only & gets not-well-formed and the close', async () => {
  await wsExpect(['&'], 'not-well-formed');
});

test("WebSocket before login: <open to='anon&.localhost'/> gets not-well-formed at once, not at the auth timeout", async () => {
  await wsExpect(
    ["<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='anon&.localhost' version='1.0'/>"],
    'not-well-formed',
    false,
  );
});

test("TCP before STARTTLS: <starttls amp='&#'/> gets not-well-formed and the close", async () => {
  const c = await rawTcp(tcpPort());
  c.write(streamHeader('anon.localhost'));
  await c.waitFor(/<\/stream:features>/);
  c.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls' amp='&#'/>");
  await c.waitFor(STREAM_ERR('not-well-formed'));
  await c.closed;
  assert.not.match(c.text(), /<proceed/);
});

test('TCP: an unfinished start tag that grows past the stanza limit gets policy-violation', async () => {
  const c = await anonymousTcp(tcpPort());
  c.write(`<message to='${b.jid}' x='${'y'.repeat(MAX * 3)}`);
  await c.waitFor(STREAM_ERR('policy-violation'));
  await c.closed;
});

test('TCP: whitespace keepalives between stanzas never add up to the stanza limit', async () => {
  const c = await anonymousTcp(tcpPort());
  for (let i = 0; i < 40; i++) {
    c.write(' '.repeat(MAX / 4));
    await c.drain();
  }
  c.write("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>");
  await c.waitFor(/<iq [^>]*id="p1"[^>]*type="result"|<iq [^>]*type="result"[^>]*id="p1"/);
  assert.not.ok(c.isClosed());
  c.destroy();
});

// ---- unbound namespace prefixes (RFC 6120 §11.2) -------------------------------------------------------------

test("WebSocket: <fz:enable xmlns='urn:xmpp:sm:3' resume='true'/> (unbound prefix) gets not-well-formed", async () => {
  await wsExpect(["<fz:enable xmlns='urn:xmpp:sm:3' resume='true'/>"], 'not-well-formed');
});

test("WebSocket: <open … fz:attr='1'/> (unbound attribute prefix) gets not-well-formed", async () => {
  await wsExpect(
    ["<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='anon.localhost' version='1.0' fz:attr='1'/>"],
    'not-well-formed',
    false,
  );
});

test("TCP: <starttls fz:attr='1'/> (unbound attribute prefix) gets not-well-formed", async () => {
  const c = await rawTcp(tcpPort());
  c.write(streamHeader('anon.localhost'));
  await c.waitFor(/<\/stream:features>/);
  c.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls' fz:attr='1'/>");
  await c.waitFor(STREAM_ERR('not-well-formed'));
  await c.closed;
  assert.not.match(c.text(), /<proceed/);
});

test('a prefix bound on the element itself or an ancestor is accepted', async () => {
  const c = await anonymousRaw(srv.wsUrl);
  c.send(
    `<message xmlns='jabber:client' xmlns:x='urn:example' to='${b.jid}' type='chat' x:a='1'><body>prefixed ok</body><x:y/></message>`,
  );
  await b.waitFor((s) => s.getChildText('body') === 'prefixed ok', 5000, 'prefixed message');
  c.close();
});

test('BOSH: a <body> with an unbound attribute prefix ends the session with bad-request', async () => {
  const bosh = new RawBosh(boshUrl());
  await bosh.login();
  const r = await post(boshUrl(), bosh.body(msgTo(b.jid, 'unbound in bosh'), { 'fz:attr': '1' }));
  assertTerminate(r, 'bad-request');
  await assertSessionGone(bosh);
  await stillServed();
  assert.not.ok(b.received.some((s) => s.getChildText('body') === 'unbound in bosh'));
});

// ---- invalid UTF-8 --------------------------------------------------------------------------------------------

test("TCP: <?xml version='\\x801.0'?> gets not-well-formed and no stream features", async () => {
  const c = await rawTcp(tcpPort());
  c.write(
    Buffer.concat([
      Buffer.from("<?xml version='"),
      Buffer.from([0x80]),
      Buffer.from(`1.0'?>${streamHeader('anon.localhost').replace(/^<\?xml[^>]*>/, '')}`),
    ]),
  );
  await c.waitFor(STREAM_ERR('not-well-formed'));
  await c.closed;
  assert.not.match(c.text(), /<mechanisms/);
});

test('TCP: a multi-byte character split across two writes is fine', async () => {
  const c = await anonymousTcp(tcpPort());
  const stanza = Buffer.from(`<message to='${b.jid}' type='chat'><body>split é€😀 ok</body></message>`);
  const at = stanza.indexOf(Buffer.from('😀')) + 2;
  c.write(stanza.subarray(0, at));
  await c.drain();
  await new Promise((r) => setImmediate(r));
  c.write(stanza.subarray(at));
  await b.waitFor((s) => s.getChildText('body') === 'split é€😀 ok', 5000, 'split character');
  c.destroy();
});

test('BOSH: a body ending in \\xe2\\x82 is refused with bad-request and its stanza not delivered', async () => {
  const bosh = new RawBosh(boshUrl());
  await bosh.login();
  const text = bosh.body(msgTo(b.jid, 'truncated utf8'));
  const r = await post(boshUrl(), Buffer.concat([Buffer.from(text), Buffer.from([0xe2, 0x82])]));
  assertTerminate(r, 'bad-request');
  await assertSessionGone(bosh);
  await stillServed();
  assert.not.ok(b.received.some((s) => s.getChildText('body') === 'truncated utf8'));
});

test('BOSH: \\xed\\xa0\\x80 (a UTF-8 surrogate) before a stanza is refused with bad-request', async () => {
  const bosh = new RawBosh(boshUrl());
  await bosh.login();
  const text = bosh.body('\u0000' + msgTo(b.jid, 'surrogate utf8'));
  const bytes = Buffer.from(text);
  const at = bytes.indexOf(0);
  const r = await post(
    boshUrl(),
    Buffer.concat([bytes.subarray(0, at), Buffer.from([0xed, 0xa0, 0x80]), bytes.subarray(at + 1)]),
  );
  assertTerminate(r, 'bad-request');
  await assertSessionGone(bosh);
  assert.not.ok(b.received.some((s) => s.getChildText('body') === 'surrogate utf8'));
});

test('BOSH: a request with two <body> elements is refused with bad-request', async () => {
  const bosh = new RawBosh(boshUrl());
  await bosh.login();
  const one = bosh.body(msgTo(b.jid, 'first body'));
  const two = bosh.body(msgTo(b.jid, 'second body'));
  const r = await post(boshUrl(), one + two);
  assertTerminate(r, 'bad-request');
  await assertSessionGone(bosh);
  await stillServed();
  assert.not.ok(b.received.some((s) => /first body|second body/.test(s.getChildText('body') ?? '')));
});

test('BOSH: a <body> nested in the <body> is refused, not processed', async () => {
  const bosh = new RawBosh(boshUrl());
  await bosh.login();
  const r = await post(boshUrl(), bosh.body(`<body xmlns='${HTTPBIND}'>${msgTo(b.jid, 'nested body')}</body>`));
  assert.match(r.text, /type=["']terminate["']/);
  await assertSessionGone(bosh);
  assert.not.ok(b.received.some((s) => s.getChildText('body') === 'nested body'));
});

// ---- WebSocket frames above the limit -------------------------------------------------------------------------

test('WebSocket: a frame far larger than the stanza limit gets <policy-violation/> and <close/> before the socket closes', async () => {
  const c = await anonymousRaw(srv.wsUrl);
  c.send(`<message xmlns='jabber:client' to='${b.jid}'><body>${'x'.repeat(MAX * 10)}</body></message>`);
  await c.waitFor(STREAM_ERR('policy-violation'));
  await c.waitFor(WS_CLOSE);
  await c.closed;
  await stillServed();
});

test('WebSocket: a text frame that is not UTF-8 gets not-well-formed before the socket closes', async () => {
  const c = await anonymousRaw(srv.wsUrl);
  // ws refuses to send invalid UTF-8 as text: write the frame by hand (FIN + text opcode, masked, 2 bytes).
  const payload = Buffer.from([0xc3, 0x28]);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((x, i) => x ^ mask[i % 4]));
  const sock = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
  sock.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
  await c.waitFor(STREAM_ERR('not-well-formed'));
  await c.closed;
});

test('the server still serves everyone after all of the above', async () => {
  await stillServed();
});

// ---- helpers --------------------------------------------------------------------------------------------------

function msgTo(to: string, body: string): string {
  return `<message xmlns='jabber:client' to='${to}' type='chat'><body>${body}</body></message>`;
}

async function post(url: string, body: string | Buffer): Promise<{ status: number; text: string }> {
  const r = await fetch(url, {
    method: 'POST',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers: { 'content-type': 'text/xml; charset=utf-8' },
  });
  return { status: r.status, text: await r.text() };
}

function assertTerminate(r: { text: string }, condition: string): void {
  assert.match(r.text, /type=["']terminate["']/, `a terminate response: ${r.text}`);
  assert.match(r.text, new RegExp(`condition=["']${condition}["']`), `condition ${condition}: ${r.text}`);
}

async function assertSessionGone(bosh: RawBosh): Promise<void> {
  const r = await post(boshUrl(), bosh.body(''));
  assertTerminate(r, 'item-not-found');
}

test.run();
