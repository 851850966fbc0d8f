// XEP-0198 stream management over WebSocket: a viewer whose network drops resumes its session and gets the
// messages sent meanwhile (today's Prosody setup has no resumption).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';

let srv: TestServer;
const clients: TestClient[] = [];

test.before(async () => {
  srv = await startTestServer({ streamManagement: { resumeTimeoutSeconds: 30 } });
});
test.after(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await srv.stop();
});

function waitEvent(
  emitter: { once(e: string, f: (...a: unknown[]) => void): void },
  name: string,
  ms: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${name} event within ${ms} ms`)), ms);
    emitter.once(name, () => {
      clearTimeout(t);
      resolve();
    });
  });
}

test('a dropped stream is resumed and the messages sent meanwhile arrive', async () => {
  const viewer = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost', reconnect: true });
  const sender = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  clients.push(viewer, sender);
  await viewer.send(xml('presence'));
  await viewer.waitFor((s) => s.is('presence') && s.attrs.from === viewer.jid);
  assert.ok(viewer.xmpp.streamManagement.id, 'stream management enabled with resumption');
  const before = srv.server.router.sessionFor(viewer.jid);
  assert.ok(before, 'session bound');

  const resumed = waitEvent(viewer.xmpp.streamManagement, 'resumed', 10_000);
  viewer.xmpp.socket.socket.terminate(); // the phone loses its network: no </close>, the TCP connection just dies
  for (let i = 1; i <= 3; i++)
    await sender.send(xml('message', { to: viewer.jid, type: 'chat' }, xml('body', {}, `while away ${i}`)));
  await resumed;

  for (let i = 1; i <= 3; i++)
    await viewer.waitFor((s) => s.getChildText('body') === `while away ${i}`, 5000, `message ${i}`);
  assert.is(srv.server.router.sessionFor(viewer.jid), before, 'the same session (same full JID) carries on');
  await sender.send(xml('message', { to: viewer.jid, type: 'chat' }, xml('body', {}, 'after resume')));
  await viewer.waitFor((s) => s.getChildText('body') === 'after resume');
  assert.is(viewer.received.filter((s) => s.getChildText('body') === 'while away 2').length, 1, 'no duplicates');
});

test('a session that is not resumed in time ends, and messages to it bounce', async () => {
  const short = await startTestServer({ streamManagement: { resumeTimeoutSeconds: 1 } });
  try {
    const viewer = await connectClient({ service: short.wsUrl, domain: 'anon.localhost' });
    const sender = await connectClient({ service: short.wsUrl, domain: 'anon.localhost' });
    await viewer.send(xml('presence'));
    await viewer.waitFor((s) => s.is('presence'));
    viewer.xmpp.socket.socket.terminate();
    await new Promise((r) => setTimeout(r, 2500));
    assert.is(short.server.router.sessionFor(viewer.jid), undefined, 'hibernating session ended');
    await sender.send(xml('message', { to: viewer.jid, type: 'chat', id: 'late' }, xml('body', {}, 'too late')));
    await sender.waitFor((s) => s.attrs.id === 'late' && s.attrs.type === 'error');
    await sender.stop();
  } finally {
    await short.stop();
  }
});

test.run();
