// A small room on a quiet server is not slowed by the write-coalescing window: with the window set to 3 s and the
// default c2s.coalesceMinFanoutPerSecond, viewers (@xmpp/client) get each of a quick series of messages within a
// fraction of it. The same room with the bound at 0 (the window holds at any rate) shows the delay the bound spares.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { xml, type TestClient } from '../helpers/xmpp-client.js';
import { joinAnonymously } from '../helpers/room-viewers.js';

const WINDOW_MS = 3000;
const ROOM = 'small@room.localhost';

interface Ctx {
  clients: TestClient[];
  servers: TestServer[];
}
const t = suite<Ctx>('write coalescing: light fan-out');

t.before((ctx) => {
  ctx.clients = [];
  ctx.servers = [];
});
t.after(async (ctx) => {
  for (const c of ctx.clients) await c.stop();
  for (const s of ctx.servers) await s.stop();
});

const join = (ctx: Ctx, srv: TestServer, nick: string): Promise<TestClient> =>
  joinAnonymously(srv, ROOM, nick, ctx.clients);

/** Posts `n` messages 50 ms apart; returns, per viewer, how long each took to arrive after it was posted (ms). */
async function series(ctx: Ctx, overrides: Record<string, number>): Promise<number[][]> {
  const srv = await startTestServer({ c2s: { coalesceMs: WINDOW_MS, coalesceMaxMs: WINDOW_MS, ...overrides } });
  ctx.servers.push(srv);
  const sender = await join(ctx, srv, 'sender');
  const viewers = [await join(ctx, srv, 'v1'), await join(ctx, srv, 'v2'), await join(ctx, srv, 'v3')];
  const sentAt: number[] = [];
  const n = 6;
  for (let i = 0; i < n; i++) {
    sentAt.push(performance.now());
    await sender.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, `m${i}`)));
    await new Promise((r) => setTimeout(r, 50));
  }
  return Promise.all(
    viewers.map(async (v) => {
      const delays: number[] = [];
      for (let i = 0; i < n; i++) {
        await v.waitFor((s) => s.is('message') && s.getChildText('body') === `m${i}`, 15_000, `m${i}`);
        delays.push(performance.now() - sentAt[i]!);
      }
      return delays;
    }),
  );
}

t('a quiet server delivers a small room’s messages at once: none waits for the 3 s window', async (ctx) => {
  // Arrival is checked as it happens (waitFor resolves on receipt): a message held for the window would arrive up
  // to 3 s after it was posted.
  const delays = await series(ctx, {});
  const worst = Math.max(...delays.flat());
  assert.ok(worst < WINDOW_MS / 3, `a message took ${Math.round(worst)} ms (window ${WINDOW_MS} ms): ${delays}`);
});

t('the same room with the bound at 0: the messages after the first wait for the window', async (ctx) => {
  const delays = await series(ctx, { coalesceMinFanoutPerSecond: 0 });
  // The first message after a quiet spell leaves at once; a later one waits for the window's end.
  const worst = Math.max(...delays.flat());
  assert.ok(worst > WINDOW_MS / 2, `no message waited for the window (worst ${Math.round(worst)} ms): ${delays}`);
});

t.run();
