// A small room on a quiet server is not slowed by the write-coalescing window: with the window set to 3 s and the
// default c2s.coalesceMinFanoutPerSecond, viewers (@xmpp/client) get each of a quick series of messages within a
// fraction of it. The same room with the bound at 0 (the window holds at any rate) shows the delay the bound spares.
import * as assert from 'uvu/assert';
import { awaitSeries, postSeries, senderAndViewers, viewersSuite, type ViewersCtx } from '../helpers/room-viewers.js';

const WINDOW_MS = 3000;
const ROOM = 'small@room.localhost';

const t = viewersSuite('write coalescing: light fan-out');

/** Posts 6 messages 50 ms apart; returns, per viewer, how long each took to arrive after it was posted (ms). */
async function series(ctx: ViewersCtx, overrides: Record<string, number>): Promise<number[][]> {
  const c2s = { coalesceMs: WINDOW_MS, coalesceMaxMs: WINDOW_MS, ...overrides };
  const { sender, viewers } = await senderAndViewers(ctx, ROOM, c2s);
  const n = 6;
  const sentAt = await postSeries(sender, ROOM, n);
  return Promise.all(
    viewers.map(async (v, k) => (await awaitSeries(v, n, `v${k + 1}`)).map((at, i) => at - sentAt[i]!)),
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
