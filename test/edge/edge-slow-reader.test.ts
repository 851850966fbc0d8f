// websocket.edge = process: the edge reports each connection's unsent bytes to the main process, so a client that
// stops reading is still dropped past limits.maxSendBufferBytes while the others keep getting their messages.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml } from '../helpers/xmpp-client.js';
import { anonymousRaw } from '../helpers/raw-ws.js';

let srv: TestServer;
test.before(async () => {
  srv = await startTestServer({
    websocket: { edge: 'process' },
    limits: { maxSendBufferBytes: 64 * 1024 },
    streamManagement: { enabled: false },
  });
});
test.after(async () => {
  await srv.stop();
});

test('a client of the edge that stops reading is dropped; a reading client gets everything', async () => {
  const slow = await anonymousRaw(srv.wsUrl);
  const slowJid = /<jid>([^<]+)<\/jid>/.exec(slow.frames.join(''))![1]!;
  const sender = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  const reader = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  assert.is(srv.server.edge!.connections, 3, 'all three connections are the edge’s');
  slow.send('<presence xmlns="jabber:client"/>');
  await reader.send(xml('presence'));
  (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // the client stops reading
  const body = 'x'.repeat(2000);
  const TOTAL = 6000; // 12 MB: far past kernel buffers and the 64 KiB bound
  for (let i = 0; i < TOTAL; i++) {
    await sender.send(xml('message', { to: slowJid, type: 'headline' }, xml('body', {}, body)));
    if (i % 500 === 0)
      await sender.send(xml('message', { to: reader.jid, type: 'chat' }, xml('body', {}, `tick ${i}`)));
    // A round trip every 10 messages: no batch holds more than ~20 KB for the slow client, so what passes the
    // bound is what the edge reports holding, not one batch on its way to it.
    if (i % 10 === 9)
      await sender.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    if (!srv.server.router.sessionFor(slowJid)) break;
  }
  const t0 = Date.now();
  while (srv.server.router.sessionFor(slowJid) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
  assert.is(srv.server.router.sessionFor(slowJid), undefined, 'the slow client was disconnected');
  const metrics = await (await fetch(`${srv.httpUrl}/metrics`)).text();
  assert.match(metrics, /^xmpp_slow_clients_dropped_total 1$/m, 'dropped as a slow reader (not for another reason)');
  assert.ok(srv.server.edge!.stats!.bufferedReports > 0, 'the edge reported the bytes it held');
  await sender.send(xml('message', { to: reader.jid, type: 'chat' }, xml('body', {}, 'after the drop')));
  await reader.waitFor((s) => s.getChildText('body') === 'after the drop', 10_000);
  assert.ok(reader.received.some((s) => s.getChildText('body') === 'tick 0'));
  assert.ok(srv.server.router.sessionFor(sender.jid), 'the sender is still connected');
  slow.close();
  await sender.stop();
  await reader.stop();
});

test.run();
