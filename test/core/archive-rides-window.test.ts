// A busy room's archive writes at the write-coalescing window's wake-ups (src/shared-wakeups.ts) instead of waking
// the server once more per message: @xmpp/client viewers of a room whose window holds (the bound on light fan-out
// at 0) get a quick series of messages, the sender its reflections, and the archive writes the series in fewer
// batches than messages. On a server whose window is off (a small room, the default bound), each message is
// written on its own as before. /metrics' xmpp_archive_writes_total counts the batches.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { xml, type TestClient } from '../helpers/xmpp-client.js';
import { joinAnonymously } from '../helpers/room-viewers.js';

const WINDOW_MS = 400;
const ROOM = 'busy@room.localhost';
const MESSAGES = 6;

interface Ctx {
  clients: TestClient[];
  servers: TestServer[];
}
const t = suite<Ctx>('archive writes ride the window');

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

async function archiveWrites(srv: TestServer): Promise<number> {
  const text = await (await fetch(`${srv.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('xmpp_archive_writes_total '));
  assert.ok(line, 'no xmpp_archive_writes_total in /metrics');
  return Number(line!.split(' ')[1]);
}

/** Posts MESSAGES messages 50 ms apart; every viewer and the sender's reflections get all, in order. */
async function series(ctx: Ctx, overrides: Record<string, number>): Promise<number> {
  const srv = await startTestServer({ c2s: { coalesceMs: WINDOW_MS, coalesceMaxMs: WINDOW_MS, ...overrides } });
  ctx.servers.push(srv);
  const sender = await join(ctx, srv, 'sender');
  const viewers = [await join(ctx, srv, 'v1'), await join(ctx, srv, 'v2'), await join(ctx, srv, 'v3')];
  const before = await archiveWrites(srv);
  for (let i = 0; i < MESSAGES; i++) {
    await sender.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, `m${i}`)));
    await new Promise((r) => setTimeout(r, 50));
  }
  await Promise.all(
    [sender, ...viewers].map(async (c, k) => {
      for (let i = 0; i < MESSAGES; i++) {
        const who = k === 0 ? 'the sender' : `v${k}`;
        await c.waitFor((s) => s.is('message') && s.getChildText('body') === `m${i}`, 15_000, `m${i} at ${who}`);
      }
    }),
  );
  // A reflection waits for its message's write: all are written once the sender has them all.
  return (await archiveWrites(srv)) - before;
}

t('the window holds: the series is written in fewer batches than messages, at its wake-ups', async (ctx) => {
  const writes = await series(ctx, { coalesceMinFanoutPerSecond: 0 });
  // The first message after a quiet spell is written at once (no window due yet); the rest ride the window's
  // wake-ups, a 400 ms window taking the series' 250 ms in one or two.
  assert.ok(writes >= 1 && writes <= 3, `${MESSAGES} messages took ${writes} archive writes`);
});

t('the window off (a small room on a quiet server): each message is written at once, on its own', async (ctx) => {
  const writes = await series(ctx, {});
  assert.is(writes, MESSAGES, `${MESSAGES} messages took ${writes} archive writes`);
});

t.run();
