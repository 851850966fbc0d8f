// A busy room's archive writes at the write-coalescing window's wake-ups (src/shared-wakeups.ts) instead of waking
// the server once more per message: @xmpp/client viewers of a room whose window holds (the bound on light fan-out
// at 0) get a quick series of messages, the sender its reflections, and the archive writes the series in fewer
// batches than messages. On a server whose window is off (a small room, the default bound), each message is
// written on its own as before. /metrics' xmpp_archive_writes_total counts the batches.
import * as assert from 'uvu/assert';
import type { TestServer } from '../helpers/server.js';
import { metricSamples } from '../helpers/metrics.js';
import { awaitSeries, postSeries, senderAndViewers, viewersSuite, type ViewersCtx } from '../helpers/room-viewers.js';

const WINDOW_MS = 400;
const ROOM = 'busy@room.localhost';
const MESSAGES = 6;

const t = viewersSuite('archive writes ride the window');

async function archiveWrites(srv: TestServer): Promise<number> {
  const n = metricSamples(await (await fetch(`${srv.httpUrl}/metrics`)).text()).get('xmpp_archive_writes_total');
  assert.ok(n !== undefined, 'no xmpp_archive_writes_total in /metrics');
  return n!;
}

/** Posts MESSAGES messages 50 ms apart; every viewer and the sender's reflections get all, in order. */
async function series(ctx: ViewersCtx, overrides: Record<string, number>): Promise<number> {
  const c2s = { coalesceMs: WINDOW_MS, coalesceMaxMs: WINDOW_MS, ...overrides };
  const { srv, sender, viewers } = await senderAndViewers(ctx, ROOM, c2s);
  const before = await archiveWrites(srv);
  await postSeries(sender, ROOM, MESSAGES);
  await Promise.all([sender, ...viewers].map((c, k) => awaitSeries(c, MESSAGES, k === 0 ? 'the sender' : `v${k}`)));
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
