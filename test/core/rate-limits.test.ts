// Flood limits: one connection's stanza rate (resource-constraint errors, then policy-violation) and one
// address's connection rate (policy-violation), on WebSocket, TCP and BOSH; generous defaults let a whole
// audience join from one address.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer } from '../helpers/server.js';
import { connectClient, xml } from '../helpers/xmpp-client.js';
import { anonymousRaw, rawWs, type RawWs } from '../helpers/raw-ws.js';
import { rawTcp, streamHeader } from '../helpers/raw-tcp.js';

process.emitWarning = () => {};

const STREAM_ERR = (cond: string) =>
  new RegExp(`<stream:error[^>]*>.*<${cond} xmlns="urn:ietf:params:xml:ns:xmpp-streams"`, 's');
const OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='anon.localhost' version='1.0'/>";

test('a connection over its stanza rate gets resource-constraint for what was dropped, then policy-violation', async () => {
  const srv = await startTestServer({
    limits: { rateLimitExempt: [], stanzasPerSecond: 2, stanzaBurst: 20 },
    tcp: { enabled: false },
  });
  const b = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  await b.send(xml('presence'));
  try {
    const c = await anonymousRaw(srv.wsUrl);
    for (let i = 0; i < 30; i++)
      c.send(`<message xmlns='jabber:client' to='${b.jid}' type='chat' id='m${i}'><body>flood ${i}</body></message>`);
    await c.waitFor(/id="m29"[^>]*type="error"|type="error"[^>]*id="m29"/);
    const errors = c.frames.filter((f) => /type="error"/.test(f) && /<resource-constraint/.test(f));
    assert.ok(errors.length >= 8 && errors.length <= 10, `${errors.length} stanzas refused (30 sent, burst 20)`);
    await b.waitFor((s) => s.getChildText('body') === 'flood 19', 5000, 'the burst');
    assert.not.ok(
      b.received.some((s) => s.getChildText('body') === 'flood 29'),
      'a refused stanza is not delivered',
    );
    // Still connected; ignoring the errors and keeping on ends the stream.
    for (let i = 0; i < 40; i++)
      c.send(`<message xmlns='jabber:client' to='${b.jid}' type='chat'><body>more ${i}</body></message>`);
    await c.waitFor(STREAM_ERR('policy-violation'));
    await c.closed;
    // The bystander is unaffected.
    const d = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
    await d.send(xml('message', { to: b.jid, type: 'chat' }, xml('body', {}, 'after the flood')));
    await b.waitFor((s) => s.getChildText('body') === 'after the flood', 5000, 'after the flood');
    await d.stop();
  } finally {
    await b.stop();
    await srv.stop();
  }
});

test('an address over its connection rate gets policy-violation on WebSocket, TCP and BOSH', async () => {
  const srv = await startTestServer({
    limits: { rateLimitExempt: [], connectionsPerSecondPerIp: 1, connectionBurstPerIp: 4 },
    tcp: { enabled: true, port: 0 },
  });
  const open: RawWs[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      const c = await rawWs(srv.wsUrl);
      open.push(c);
      c.send(OPEN);
      await c.waitFor(/<mechanisms/);
    }
    const ws = await rawWs(srv.wsUrl);
    await ws.waitFor(STREAM_ERR('policy-violation'));
    assert.is(await ws.closed, 1000);
    const tcp = await rawTcp(srv.server.tcpAddresses()!.starttls[0].port);
    tcp.write(streamHeader('anon.localhost'));
    await tcp.waitFor(STREAM_ERR('policy-violation'));
    await tcp.closed;
    const r = await fetch(`${srv.httpUrl}/http-bind`, {
      method: 'POST',
      body: "<body rid='1000' to='anon.localhost' wait='10' hold='1' ver='1.6' xmlns='http://jabber.org/protocol/httpbind'/>",
    });
    const text = await r.text();
    assert.match(text, /type=["']terminate["']/);
    assert.match(text, /condition=["']policy-violation["']/);
    // The connections already open keep working.
    open[0].send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
    await open[0].waitFor(/<success/);
  } finally {
    for (const c of open) c.close();
    await srv.stop();
  }
});

test('the default limits let 400 viewers join at once from one address', async () => {
  const srv = await startTestServer({ limits: { rateLimitExempt: [] }, tcp: { enabled: false } });
  const clients: RawWs[] = [];
  try {
    const results = await Promise.all(
      Array.from({ length: 400 }, async () => {
        const c = await rawWs(srv.wsUrl);
        clients.push(c);
        c.send(OPEN);
        return c.waitFor(/<mechanisms|<stream:error/, 60_000);
      }),
    );
    assert.is(results.filter((f) => /<mechanisms/.test(f)).length, 400);
  } finally {
    for (const c of clients) c.close();
    await srv.stop();
  }
});

test('limits are validated with the field named', async () => {
  const { validateConfig: loadConfig } = await import('../../src/config.js');
  assert.throws(() => loadConfig({ domain: 'localhost', limits: { stanzasPerSecond: 0 } }), /limits\.stanzasPerSecond/);
  assert.throws(() => loadConfig({ domain: 'localhost', limits: { rateLimitExempt: 5 } }), /limits\.rateLimitExempt/);
});

test.run();
