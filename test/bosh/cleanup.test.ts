// BOSH sessions that stop polling do not linger: they end after the inactivity period, and one that lets data pile
// up is dropped once its buffer passes the send-buffer limit. Either way the user is gone for everyone else.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { RawBosh } from './raw.js';
import { until } from '../helpers/until.js';

interface Ctx {
  srv: TestServer;
  url: string;
  ws: TestClient[];
}
const t = suite<Ctx>('BOSH cleanup');

t.before(async (ctx) => {
  ctx.srv = await startTestServer({ bosh: { inactivity: 1 }, limits: { maxSendBufferBytes: 16 * 1024 } });
  ctx.url = `${ctx.srv.httpUrl}/http-bind`;
  ctx.ws = [];
});
t.after(async (ctx) => {
  await Promise.all(ctx.ws.map((c) => c.stop()));
  await ctx.srv.stop();
});

/** True when a message to `jid` bounces with service-unavailable (nobody is bound there any more). */
async function bounces(w: TestClient, jid: string, id: string): Promise<boolean> {
  await w.send(xml('message', { to: jid, type: 'chat', id }, xml('body', {}, 'still there?')));
  const r = await w.waitFor((s) => s.is('message') && s.attrs.id === id, 3000).catch(() => null);
  return !!r && r.attrs.type === 'error';
}

t('a client that stops polling is cleaned up after the inactivity period', async (ctx) => {
  const w = await connectClient({ service: ctx.srv.wsUrl, domain: 'anon.localhost' });
  ctx.ws.push(w);
  const b = new RawBosh(ctx.url);
  const jid = await b.login({ wait: 1 });
  const before = ctx.srv.server.connectionCount;
  // No more requests from here on: the last response was the bind result.
  await until('the c2s session to end', () => ctx.srv.server.connectionCount === before - 1, 5000, 50);
  assert.ok(await bounces(w, jid, 'gone1'), 'messages to the vanished user bounce');
  const late = await b.send();
  assert.is(late.body.attrs.type, 'terminate');
  assert.is(late.body.attrs.condition, 'item-not-found', 'the sid is forgotten');
});

t('a session whose held request is never renewed is cleaned up after wait + inactivity', async (ctx) => {
  const b = new RawBosh(ctx.url);
  await b.login({ wait: 1 });
  const before = ctx.srv.server.connectionCount;
  const t0 = Date.now();
  await b.send(); // held for `wait`, then answered empty; the client never comes back
  await until('the c2s session to end', () => ctx.srv.server.connectionCount === before - 1, 6000, 50);
  assert.ok(Date.now() - t0 >= 1800, 'not before wait + inactivity');
});

t('data piling up for a client that does not poll is bounded: the client is dropped', async (ctx) => {
  const w = await connectClient({ service: ctx.srv.wsUrl, domain: 'anon.localhost' });
  ctx.ws.push(w);
  const b = new RawBosh(ctx.url);
  const jid = await b.login({ wait: 1 });
  const before = ctx.srv.server.connectionCount;
  // 30 KiB for a client that holds no request: past the 16 KiB send-buffer limit, well before inactivity.
  const chunk = 'y'.repeat(6 * 1024);
  for (let i = 0; i < 5; i++)
    await w.send(xml('message', { to: jid, type: 'chat', id: `big${i}` }, xml('body', {}, chunk)));
  // Within 800 ms: dropped for its buffer, not by the inactivity timer.
  await until('the client to be dropped', () => ctx.srv.server.connectionCount === before - 1, 800, 50);
  const late = await b.send();
  assert.is(late.body.attrs.type, 'terminate');
});

t.run();
