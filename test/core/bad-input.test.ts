// Bad input closes only the offending stream, with the right stream error; everyone else keeps being served.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { anonymousRaw, rawWs } from '../helpers/raw-ws.js';

let srv: TestServer;
let a: TestClient;
let b: TestClient;

test.before(async () => {
  srv = await startTestServer({ limits: { maxStanzaSize: 10_000 } });
  a = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  b = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  await b.send(xml('presence'));
});
test.after(async () => {
  await a.stop();
  await b.stop();
  await srv.stop();
});

let n = 0;
async function stillServed(): Promise<void> {
  const body = `still here ${++n}`;
  await a.send(xml('message', { to: b.jid, type: 'chat' }, xml('body', {}, body)));
  await b.waitFor((s) => s.getChildText('body') === body, 3000, body);
}

const STREAM_ERR = (cond: string) =>
  new RegExp(`<stream:error[^>]*>.*<${cond} xmlns="urn:ietf:params:xml:ns:xmpp-streams"`, 's');

test('malformed XML gets not-well-formed and the stream closes; other clients still get messages', async () => {
  const bad = await anonymousRaw(srv.wsUrl);
  bad.send('<message xmlns="jabber:client" to="x@anon.localhost"><body>oops</bdy></message>');
  await bad.waitFor(STREAM_ERR('not-well-formed'));
  await bad.waitFor(/<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/);
  assert.is(await bad.closed, 1000);
  await stillServed();
});

test('an oversized stanza gets policy-violation', async () => {
  const big = await anonymousRaw(srv.wsUrl);
  big.send(`<message xmlns="jabber:client" to="${b.jid}"><body>${'x'.repeat(20_000)}</body></message>`);
  await big.waitFor(STREAM_ERR('policy-violation'));
  await big.closed;
  await stillServed();
  assert.not.ok(
    b.received.some((s) => (s.getChildText('body') ?? '').startsWith('xxxx')),
    'the oversized message was not delivered',
  );
});

test('comments, DTDs and processing instructions get restricted-xml', async () => {
  for (const payload of [
    '<message xmlns="jabber:client"><!-- hi --></message>',
    '<!DOCTYPE foo [<!ENTITY x "y">]><a/>',
    '<a><?php echo 1 ?></a>',
  ]) {
    const c = await anonymousRaw(srv.wsUrl);
    c.send(payload);
    await c.waitFor(STREAM_ERR('restricted-xml'));
    await c.closed;
  }
  await stillServed();
});

test('a stream to a host we do not serve gets host-unknown', async () => {
  const c = await rawWs(srv.wsUrl);
  c.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="example.com" version="1.0"/>');
  await c.waitFor(STREAM_ERR('host-unknown'));
  await c.closed;
});

test('stanzas before authentication get not-authorized', async () => {
  const c = await rawWs(srv.wsUrl);
  c.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="anon.localhost" version="1.0"/>');
  await c.waitFor(/<mechanisms/);
  c.send(`<message xmlns="jabber:client" to="${b.jid}"><body>sneaky</body></message>`);
  await c.waitFor(STREAM_ERR('not-authorized'));
  await c.closed;
  await stillServed();
  assert.not.ok(b.received.some((s) => s.getChildText('body') === 'sneaky'));
});

test('a forged from gets invalid-from', async () => {
  const c = await anonymousRaw(srv.wsUrl);
  c.send(`<message xmlns="jabber:client" from="${a.jid}" to="${b.jid}"><body>forged</body></message>`);
  await c.waitFor(STREAM_ERR('invalid-from'));
  await c.closed;
  assert.not.ok(b.received.some((s) => s.getChildText('body') === 'forged'));
});

test('a WebSocket without the xmpp subprotocol is refused (RFC 7395)', async () => {
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(srv.wsUrl);
  const status = await new Promise<number>((resolve) => {
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => resolve(101));
    ws.on('error', () => {});
  });
  assert.is(status, 400);
});

test('200 clients connect at once and all bind', async () => {
  const many = await Promise.all(
    Array.from({ length: 200 }, () => connectClient({ service: srv.wsUrl, domain: 'anon.localhost' })),
  );
  const jids = new Set(many.map((c) => c.jid));
  assert.is(jids.size, 200);
  for (const j of jids) assert.match(j, /@anon\.localhost\//);
  await Promise.all(many.map((c) => c.stop()));
  await stillServed();
});

test.run();
