// The write-coalescing window (c2s.coalesceMs) over BOSH: a busy room's messages to a BOSH viewer wait for the window
// and leave in one response, as over WebSocket, instead of one HTTP response (and one new request) per message; the
// first message after a quiet spell is not held; an IQ answer is not held either and takes the waiting messages with
// it. With a window far longer than any step here (2 s), what is held and what is not cannot be mistaken.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { xml } from '../helpers/xmpp-client.js';
import { enterRoom, payloads, type RawResponse } from './raw.js';
import { closeRoomWithBoshViewer, openRoomWithBoshViewer, type RoomWithBoshViewer } from './room-fixture.js';

const WINDOW_MS = 2000;
const ROOM = 'bosh-window@room.localhost';

type Ctx = RoomWithBoshViewer;
const t = suite<Ctx>('BOSH write coalescing');

/** The bodies of the sender's groupchat messages in a response, in order. */
const bodies = (r: RawResponse): string[] =>
  payloads(r)
    .filter((e) => e.name === 'message' && e.attrs.from === `${ROOM}/sender`)
    .map((e) => e.getChildText('body') ?? '');

t.before(async (ctx) => {
  await openRoomWithBoshViewer(ctx, ROOM, 'sender', {
    c2s: { coalesceMs: WINDOW_MS, coalesceMaxMs: WINDOW_MS, coalesceMinFanoutPerSecond: 0 },
  });
  await enterRoom(ctx.viewer, `${ROOM}/viewer`);
});
t.after(closeRoomWithBoshViewer);

/** The sender posts a message; its ping's answer says the server has fanned it out. */
async function post(ctx: Ctx, body: string): Promise<void> {
  await ctx.sender.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, body)));
  await ctx.sender.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
}

/** Polls until the viewer has `want` of the sender's messages; returns them and the responses that carried them. */
async function collect(ctx: Ctx, want: number): Promise<{ got: string[]; responses: number }> {
  const got: string[] = [];
  let responses = 0;
  for (let i = 0; i < 20 && got.length < want; i++) {
    const b = bodies(await ctx.viewer.send());
    if (b.length) responses++;
    got.push(...b);
  }
  return { got, responses };
}

t(
  'the first message after a quiet spell leaves at once; the next ones wait for the window, in one response',
  async (ctx) => {
    // The join itself (the other occupants' presences) made the session busy: a quiet spell first.
    await new Promise((r) => setTimeout(r, WINDOW_MS + 200));
    const t0 = Date.now();
    await post(ctx, 'm0');
    const first = await collect(ctx, 1);
    assert.equal(first.got, ['m0']);
    const firstAfter = Date.now() - t0;
    assert.ok(firstAfter < WINDOW_MS / 2, `the first message took ${firstAfter} ms`);

    // The viewer's session is now busy: what the room sends within the window waits for its end.
    const flushedAt = Date.now();
    let settled = false;
    const poll = ctx.viewer.send().then((r) => {
      settled = true;
      return r;
    });
    for (let i = 1; i <= 5; i++) await post(ctx, `m${i}`);
    await new Promise((r) => setTimeout(r, 300));
    assert.not.ok(settled, 'the held request was answered before the window ended');
    const r = await poll;
    const waited = Date.now() - flushedAt;
    assert.equal(bodies(r), ['m1', 'm2', 'm3', 'm4', 'm5'], 'all five, in order, in one response');
    assert.ok(waited >= WINDOW_MS - 300 && waited < WINDOW_MS + 1500, `answered after ${waited} ms`);
  },
);

t('an IQ answer is not held: it leaves at once and takes the waiting messages with it, in order', async (ctx) => {
  // Still busy from the last test's window: these wait, with no request of the viewer's open.
  await post(ctx, 'm6');
  await post(ctx, 'm7');
  const sentAt = Date.now();
  const r = await ctx.viewer.send(
    `<iq xmlns='jabber:client' type='get' id='ping1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`,
  );
  const took = Date.now() - sentAt;
  const kinds = payloads(r).map((e) =>
    e.name === 'iq' ? `iq:${e.attrs.id}:${e.attrs.type}` : (e.getChildText('body') ?? e.name),
  );
  assert.equal(kinds, ['m6', 'm7', 'iq:ping1:result'], 'the held messages first, then the answer, in one response');
  assert.ok(took < WINDOW_MS / 2, `the answer took ${took} ms (window ${WINDOW_MS} ms)`);
});

t(
  'a burst of 30 messages over ~1 s reaches a busy BOSH viewer complete, in order, in a handful of responses',
  async (ctx) => {
    const want = Array.from({ length: 30 }, (_, i) => `b${i}`);
    const sending = (async () => {
      for (const b of want) {
        await post(ctx, b);
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    const { got, responses } = await collect(ctx, want.length);
    await sending;
    assert.equal(got, want);
    // One response per window (plus the window already running when the burst began), against one per message with
    // the window off.
    assert.ok(responses <= 3, `${responses} responses carried the 30 messages`);
  },
);

t.run();
