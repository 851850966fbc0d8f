// Idle connections: the server pings quiet clients (XEP-0199), closes those that never answer, and closes
// connections that never authenticate.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml } from '../helpers/xmpp-client.js';
import { anonymousRaw, rawWs } from '../helpers/raw-ws.js';

let srv: TestServer;
test.before(async () => {
  srv = await startTestServer({ limits: { pingAfterSeconds: 1, idleTimeoutSeconds: 3, authTimeoutSeconds: 2 } });
});
test.after(async () => {
  await srv.stop();
});

test('a silent client is pinged, and closed with connection-timeout when it never answers', async () => {
  const c = await anonymousRaw(srv.wsUrl);
  const ping = await c.waitFor(/<ping xmlns="urn:xmpp:ping"/, 4000);
  assert.match(ping, /type="get"/);
  await c.waitFor(/<connection-timeout xmlns="urn:ietf:params:xml:ns:xmpp-streams"/, 6000);
  await c.closed;
});

test('a client that answers pings stays connected past the idle timeout', async () => {
  const c = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  const peer = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  await c.send(xml('presence'));
  await new Promise((r) => setTimeout(r, 5000));
  await peer.send(xml('message', { to: c.jid, type: 'chat' }, xml('body', {}, 'still there?')));
  await c.waitFor((s) => s.getChildText('body') === 'still there?');
  await c.stop();
  await peer.stop();
});

test('any message counts as activity: a client sending only whitespace keepalives is kept', async () => {
  const dead = await anonymousRaw(srv.wsUrl);
  const alive = await anonymousRaw(srv.wsUrl);
  const keepalive = setInterval(() => alive.send(' '), 300);
  try {
    // The silent one is dropped after its unanswered ping; the one sending whitespace was never quiet that long.
    await dead.waitFor(/<connection-timeout/, 10_000);
    await dead.closed;
    assert.is(alive.ws.readyState, alive.ws.OPEN);
    assert.not.ok(
      alive.frames.some((f) => /stream:error/.test(f)),
      alive.frames.join(' '),
    );
  } finally {
    clearInterval(keepalive);
    alive.close();
  }
});

test('a connection that never authenticates is closed', async () => {
  const c = await rawWs(srv.wsUrl);
  c.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="anon.localhost" version="1.0"/>');
  await c.waitFor(/<connection-timeout/, 6000);
  await c.closed;
});

test('iq between two clients is routed by full JID and the result comes back', async () => {
  const a = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  const b = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  // @xmpp/client answers XEP-0199 pings itself: a real client on the other end.
  const res = await a.iq(xml('iq', { type: 'get', to: b.jid, id: 'pp' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  assert.is(res.attrs.type, 'result');
  assert.is(res.attrs.from, b.jid);
  await a.stop();
  await b.stop();
});

test.run();
