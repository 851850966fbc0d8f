// A client that stops reading is disconnected once its send buffer passes the bound, instead of the server
// buffering for it without limit; everyone else keeps getting their messages.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml } from '../helpers/xmpp-client.js';
import { anonymousRaw } from '../helpers/raw-ws.js';

let srv: TestServer;
test.before(async () => {
  srv = await startTestServer({ limits: { maxSendBufferBytes: 64 * 1024 }, streamManagement: { enabled: false } });
});
test.after(async () => {
  await srv.stop();
});

test('a client that stops reading is dropped; a reading client gets everything', async () => {
  const slow = await anonymousRaw(srv.wsUrl);
  const slowJid = /<jid>([^<]+)<\/jid>/.exec(slow.frames.join(''))![1];
  const sender = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  const reader = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  slow.send('<presence xmlns="jabber:client"/>');
  await reader.send(xml('presence'));
  await new Promise((r) => setTimeout(r, 200));
  (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // the client stops reading
  const body = 'x'.repeat(2000);
  const TOTAL = 6000; // 12 MB: far past kernel buffers and the 64 KiB bound
  for (let i = 0; i < TOTAL; i++) {
    // headline: once the slow client is gone, RFC 6121 drops these silently instead of bouncing 12 MB back.
    await sender.send(xml('message', { to: slowJid, type: 'headline' }, xml('body', {}, body)));
    if (i % 500 === 0)
      await sender.send(xml('message', { to: reader.jid, type: 'chat' }, xml('body', {}, `tick ${i}`)));
    if (!srv.server.router.sessionFor(slowJid)) break;
  }
  const t0 = Date.now();
  while (srv.server.router.sessionFor(slowJid) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
  assert.is(srv.server.router.sessionFor(slowJid), undefined, 'the slow client was disconnected');
  const metrics = await (await fetch(`${srv.httpUrl}/metrics`)).text();
  assert.match(metrics, /^xmpp_slow_clients_dropped_total 1$/m, 'the drop is counted in /metrics');
  await sender.send(xml('message', { to: reader.jid, type: 'chat' }, xml('body', {}, 'after the drop')));
  await reader.waitFor((s) => s.getChildText('body') === 'after the drop', 5000);
  assert.ok(reader.received.some((s) => s.getChildText('body') === 'tick 0'));
  assert.ok(srv.server.router.sessionFor(sender.jid), 'the sender is still connected');
  slow.close();
  await sender.stop();
  await reader.stop();
});

test.run();
