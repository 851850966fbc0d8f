// bosh.pushIntervalMs: behind a per-IP request limit (PeerTube's plugin routes), a BOSH viewer of a busy room must
// not cost one HTTP request per message. A room's messages arriving faster than the interval leave together; none is
// lost; answers are not held by it, so a login takes no longer than without it. Same-run baseline: a server with the
// interval off (its room traffic paced by the WebSocket window, c2s.coalesceMs).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { RawBosh, enterRoom, payloads } from './raw.js';

const INTERVAL_MS = 400;
const MUC = 'http://jabber.org/protocol/muc';

interface Ctx {
  paced: TestServer;
  plain: TestServer;
  clients: TestClient[];
}
const t = suite<Ctx>('BOSH push interval');

t.before(async (ctx) => {
  ctx.clients = [];
  ctx.paced = await startTestServer({ bosh: { pushIntervalMs: INTERVAL_MS } });
  ctx.plain = await startTestServer({});
});
t.after(async (ctx) => {
  for (const c of ctx.clients) await c.stop();
  await ctx.paced?.stop();
  await ctx.plain?.stop();
});

/** A sender over WebSocket posts `n` messages 40 ms apart in a room; a BOSH viewer polls until it has them all. */
async function burst(
  ctx: Ctx,
  srv: TestServer,
  n: number,
): Promise<{ responsesWithData: number; received: string[]; gaps: number[] }> {
  const room = `burst${n}@room.localhost`;
  const sender = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost', streamManagement: false });
  ctx.clients.push(sender);
  await sender.send(xml('presence', { to: `${room}/sender` }, xml('x', { xmlns: MUC })));
  await sender.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/sender`, 15_000, 'own join');
  const b = new RawBosh(`${srv.httpUrl}/http-bind`);
  await b.login();
  await enterRoom(b, `${room}/viewer`);
  const received: string[] = [];
  const stamps: number[] = [];
  let responsesWithData = 0;
  const sending = (async () => {
    for (let i = 0; i < n; i++) {
      await sender.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, `message ${i}`)));
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  const deadline = Date.now() + 20_000;
  while (received.length < n && Date.now() < deadline) {
    const r = await b.send();
    const bodies = payloads(r)
      .filter((e) => e.name === 'message' && e.attrs.from === `${room}/sender`)
      .map((e) => e.getChildText('body') ?? '');
    if (bodies.length > 0) {
      responsesWithData++;
      stamps.push(Date.now());
      received.push(...bodies);
    }
  }
  await sending;
  await b.send('', { type: 'terminate' });
  return { responsesWithData, received, gaps: stamps.slice(1).map((s, i) => s - stamps[i]!) };
}

t(
  'a burst of 20 room messages in ~800 ms reaches a BOSH viewer in a few responses, all of them, in order',
  async (ctx) => {
    const want = Array.from({ length: 20 }, (_, i) => `message ${i}`);
    const plain = await burst(ctx, ctx.plain, 20);
    const paced = await burst(ctx, ctx.paced, 20);
    console.log(
      `    20 messages: ${plain.responsesWithData} data responses with the WebSocket window, ${paced.responsesWithData} with a ${INTERVAL_MS} ms interval`,
    );
    assert.equal(plain.received, want, 'baseline: all delivered');
    assert.equal(paced.received, want, 'paced: all delivered, in order');
    // One response per 400 ms at most over ~800 ms of sending (plus the first and the tail): a handful.
    assert.ok(paced.responsesWithData <= 5, `paced: ${paced.responsesWithData} responses with data`);
    assert.ok(
      plain.responsesWithData > paced.responsesWithData,
      `baseline ${plain.responsesWithData} vs paced ${paced.responsesWithData}`,
    );
    // Data responses are the interval apart, less the coalescer's slack (an eighth of its window, released together).
    assert.ok(
      paced.gaps.every((g) => g >= INTERVAL_MS - INTERVAL_MS / 8 - 10),
      `gaps ${paced.gaps.join(', ')} ms`,
    );
  },
);

t('answers are not held by the interval: a login takes no longer than without it', async (ctx) => {
  const timeLogin = async (srv: TestServer): Promise<number> => {
    const b = new RawBosh(`${srv.httpUrl}/http-bind`);
    const t0 = Date.now();
    await b.login(); // four round trips, each answer carrying data
    const ms = Date.now() - t0;
    await b.send('', { type: 'terminate' });
    return ms;
  };
  const plain = await timeLogin(ctx.plain);
  const paced = await timeLogin(ctx.paced);
  console.log(`    login: ${plain} ms with the WebSocket window, ${paced} ms with a ${INTERVAL_MS} ms interval`);
  // Held answers would make it three intervals at least (1.2 s).
  assert.ok(paced < plain + INTERVAL_MS, `login ${paced} ms with the interval, ${plain} ms without`);
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
