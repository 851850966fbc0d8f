// bosh.pushIntervalMs: behind a per-IP request limit (PeerTube's plugin routes), a BOSH viewer of a busy room must
// not cost one HTTP request per message. Messages arriving faster than the interval leave together; none is lost.
// Same-run baseline: the same burst with the interval off.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { RawBosh, payloads } from './raw.js';

interface Ctx {
  paced: TestServer;
  plain: TestServer;
  clients: TestClient[];
}
const t = suite<Ctx>('BOSH push interval');

t.before(async (ctx) => {
  ctx.clients = [];
  ctx.paced = await startTestServer({ bosh: { pushIntervalMs: 400 } });
  ctx.plain = await startTestServer({});
});
t.after(async (ctx) => {
  for (const c of ctx.clients) await c.stop();
  await ctx.paced?.stop();
  await ctx.plain?.stop();
});

/** A sender over WebSocket sends `n` chat messages 40 ms apart to a BOSH user, who polls until it has them all. */
async function burst(
  ctx: Ctx,
  srv: TestServer,
  n: number,
): Promise<{ responsesWithData: number; received: string[]; gaps: number[] }> {
  const b = new RawBosh(`${srv.httpUrl}/http-bind`);
  const jid = await b.login();
  const sender = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  ctx.clients.push(sender);
  const received: string[] = [];
  const stamps: number[] = [];
  let responsesWithData = 0;
  const sending = (async () => {
    for (let i = 0; i < n; i++) {
      await sender.send(xml('message', { to: jid, type: 'chat', id: `m${i}` }, xml('body', {}, `message ${i}`)));
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  const deadline = Date.now() + 20_000;
  while (received.length < n && Date.now() < deadline) {
    const r = await b.send();
    const bodies = payloads(r)
      .filter((e) => e.name === 'message')
      .map((e) => e.getChildText('body') ?? '');
    if (bodies.length > 0) {
      responsesWithData++;
      stamps.push(Date.now());
      received.push(...bodies);
    }
  }
  await sending;
  await b.send('', { type: 'terminate' });
  return { responsesWithData, received, gaps: stamps.slice(1).map((s, i) => s - stamps[i]) };
}

t('a burst of 20 messages in ~800 ms reaches a BOSH user in a few responses, all of them, in order', async (ctx) => {
  const want = Array.from({ length: 20 }, (_, i) => `message ${i}`);
  const plain = await burst(ctx, ctx.plain, 20);
  const paced = await burst(ctx, ctx.paced, 20);
  console.log(
    `    20 messages: ${plain.responsesWithData} data responses at once, ${paced.responsesWithData} with a 400 ms interval`,
  );
  assert.equal(plain.received, want, 'baseline: all delivered');
  assert.equal(paced.received, want, 'paced: all delivered, in order');
  // One response per 400 ms at most over ~800 ms of sending (plus the tail): a handful, against about one a message.
  assert.ok(paced.responsesWithData <= 5, `paced: ${paced.responsesWithData} responses with data`);
  assert.ok(
    plain.responsesWithData > paced.responsesWithData * 2,
    `baseline ${plain.responsesWithData} vs paced ${paced.responsesWithData}`,
  );
  // Timers never fire early: data responses are at least the interval apart (a few ms of clock slack).
  assert.ok(
    paced.gaps.every((g) => g >= 390),
    `gaps ${paced.gaps.join(', ')} ms`,
  );
});

t('config: pushIntervalMs is validated with the field named', async () => {
  let err = '';
  try {
    await startTestServer({ bosh: { pushIntervalMs: -1 } });
  } catch (e) {
    err = String(e);
  }
  assert.match(err, /bosh\.pushIntervalMs/);
});

t.run();
