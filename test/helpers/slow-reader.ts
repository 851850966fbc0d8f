// The slow-reader scenario shared by the in-process and edge WebSocket tests: one raw client stops reading while a
// sender floods it (12 MB of headlines) and a reader gets a chat message now and then. The slow client must be
// dropped past limits.maxSendBufferBytes, counted in /metrics, and nobody else may lose anything.
import * as assert from 'uvu/assert';
import type { TestServer } from './server.js';
import { connectClient, xml } from './xmpp-client.js';
import { anonymousRaw, jidOf } from './raw-ws.js';

export interface SlowReaderOptions {
  /** A ping round trip every N messages: bounds what one batch holds on its way to the slow client. */
  roundTripEvery?: number;
  /** How long the server may take to notice, after the flood, in ms. */
  dropWithinMs: number;
  /** Checked once all three are connected (e.g. that the edge carries them). */
  connected?: () => void;
}

export async function slowReaderIsDropped(srv: TestServer, opts: SlowReaderOptions): Promise<void> {
  const slow = await anonymousRaw(srv.wsUrl);
  const slowJid = jidOf(slow);
  const sender = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  const reader = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  opts.connected?.();
  slow.send('<presence xmlns="jabber:client"/>');
  await reader.send(xml('presence'));
  (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // the client stops reading
  const body = 'x'.repeat(2000);
  const TOTAL = 6000; // 12 MB: far past kernel buffers and the 64 KiB bound
  for (let i = 0; i < TOTAL; i++) {
    // headline: once the slow client is gone, RFC 6121 drops these silently instead of bouncing 12 MB back.
    await sender.send(xml('message', { to: slowJid, type: 'headline' }, xml('body', {}, body)));
    if (i % 500 === 0)
      await sender.send(xml('message', { to: reader.jid, type: 'chat' }, xml('body', {}, `tick ${i}`)));
    if (opts.roundTripEvery && i % opts.roundTripEvery === opts.roundTripEvery - 1)
      await sender.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    if (!srv.server.router.sessionFor(slowJid)) break;
  }
  const t0 = Date.now();
  while (srv.server.router.sessionFor(slowJid) && Date.now() - t0 < opts.dropWithinMs)
    await new Promise((r) => setTimeout(r, 50));
  assert.is(srv.server.router.sessionFor(slowJid), undefined, 'the slow client was disconnected');
  const metrics = await (await fetch(`${srv.httpUrl}/metrics`)).text();
  assert.match(metrics, /^xmpp_slow_clients_dropped_total 1$/m, 'dropped as a slow reader (not for another reason)');
  await sender.send(xml('message', { to: reader.jid, type: 'chat' }, xml('body', {}, 'after the drop')));
  await reader.waitFor((s) => s.getChildText('body') === 'after the drop', 10_000);
  assert.ok(
    reader.received.some((s) => s.getChildText('body') === 'tick 0'),
    'the reader got the first tick',
  );
  assert.ok(srv.server.router.sessionFor(sender.jid), 'the sender is still connected');
  slow.close();
  await sender.stop();
  await reader.stop();
}
