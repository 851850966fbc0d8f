// /metrics: OpenMetrics text an operator's Prometheus scrapes, with figures that follow what users do.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { metricSamples } from '../helpers/metrics.js';

let srv: TestServer;
const clients: TestClient[] = [];

test.after(async () => {
  for (const c of clients) await c.stop().catch(() => undefined);
  await srv?.stop();
});

async function scrape(): Promise<{ type: string | null; text: string; s: Map<string, number> }> {
  const res = await fetch(`${srv.httpUrl}/metrics`);
  assert.is(res.status, 200);
  const text = await res.text();
  return { type: res.headers.get('content-type'), text, s: metricSamples(text) };
}

test('sessions, occupants, stanzas and fan-out latency follow two viewers chatting in a room', async () => {
  srv = await startTestServer();
  const before = await scrape();
  assert.match(before.type ?? '', /^application\/openmetrics-text; version=1\.0\.0/);
  assert.ok(before.text.endsWith('# EOF\n'), 'no # EOF terminator');
  assert.is(before.s.get('xmpp_sessions'), 0);
  assert.is(before.s.get('xmpp_muc_occupants'), 0);
  assert.is(before.s.get('xmpp_muc_fanout_seconds_count'), 0);

  const room = `talk@${srv.server.config.mucHost}`;
  for (const nick of ['a', 'b']) {
    const c = await connectClient({ service: srv.wsUrl, domain: srv.server.config.anonymousHost! });
    clients.push(c);
    await c.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
    await c.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/${nick}`, 10_000, `${nick} joined`);
  }
  await clients[0].send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, 'hello')));
  await clients[1].waitFor((s) => s.is('message') && s.getChildText('body') === 'hello', 10_000, 'message');
  // The sender's reflection comes once the message is on disk.
  await clients[0].waitFor((s) => s.is('message') && s.getChildText('body') === 'hello', 10_000, 'reflection');

  const after = await scrape();
  assert.is(after.s.get('xmpp_sessions'), 2);
  assert.is(after.s.get('xmpp_muc_rooms'), 1);
  assert.is(after.s.get('xmpp_muc_occupants'), 2);
  assert.ok(after.s.get('xmpp_stanzas_received_total')! >= 3, 'joins and the message were not counted');
  assert.ok(after.s.get('xmpp_stanzas_routed_total')! >= 3);
  assert.is(after.s.get('xmpp_muc_fanout_seconds_count'), 1);
  assert.is(after.s.get('xmpp_muc_fanout_deliveries_total'), 2);
  assert.is(after.s.get('xmpp_muc_fanout_seconds_bucket{le="+Inf"}'), 1);
  assert.is(after.s.get('xmpp_slow_clients_dropped_total'), 0);
  assert.ok(after.s.has('xmpp_archive_write_queue_bytes'));
  assert.is(after.s.get('xmpp_archive_writes_total'), 1, 'the message was not written to the archive once');
  // Every family is declared before its samples.
  for (const name of ['xmpp_sessions', 'xmpp_muc_fanout_seconds', 'xmpp_stanzas_received'])
    assert.match(after.text, new RegExp(`# TYPE ${name} `));
});

test('http.metricsPath "" turns the endpoint off', async () => {
  const other = await startTestServer({ http: { metricsPath: '' } });
  try {
    const res = await fetch(`${other.httpUrl}/metrics`);
    assert.is(res.status, 404);
    await res.body?.cancel();
  } finally {
    await other.stop();
  }
});

test.run();
