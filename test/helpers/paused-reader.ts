// The paused-reader scenario shared by the in-process and edge release-buffer tests: one raw client stops reading
// while a sender floods it until the server holds over 1 MB for it, beside a client that keeps reading. Each
// release's buffer is reused only when its socket took it whole, so a release the paused socket keeps must never be
// written over: both readers must get every message intact and in order, and every byte on their wire must be
// whole text frames (a reused buffer written over while the kernel still held part of it would show there).
import * as assert from 'uvu/assert';
import type { TestServer } from './server.js';
import { anonymousRaw, jidOf, type RawWs } from './raw-ws.js';
import { readFrames } from './ws-frames.js';
import type { Raw } from '../../src/config-schema.js';

/**
 * Limits for the server under test: send bounds far above the flood (the kernel's loopback buffers take several MB
 * before the server holds any), and no keepalive ping (its control frame would not be a text frame on the wire).
 */
export const PAUSED_READER_LIMITS: Raw = {
  limits: {
    maxSendBufferBytes: 256 << 20,
    maxTotalSendBufferBytes: 512 << 20,
    pingAfterSeconds: 3600,
    idleTimeoutSeconds: 7200,
  },
};

/** Every byte the server wrote to `c` is whole text frames, and they are the frames the client decoded. */
export function assertWholeFrames(c: RawWs, who: string): void {
  const wire = readFrames(Buffer.concat(c.bytes));
  assert.is(wire.length, c.frames.length, `${who}: frames on the wire and frames decoded differ in number`);
  assert.ok(
    wire.every((f, i) => f === c.frames[i]),
    `${who}: a frame on the wire differs from the one decoded`,
  );
}

/** The bodies received are those sent, in order (the message names the first one wrong, not a 40 MB diff). */
function sameMessages(got: Array<string | undefined>, sent: string[], who: string): void {
  const wrong = sent.findIndex((b, i) => got[i] !== b);
  assert.ok(
    wrong === -1 && got.length === sent.length,
    `${who} got ${got.length} of ${sent.length} messages, the first lost, changed or out of order at ${wrong}`,
  );
}

/** `connected`: checked once the three clients are in (e.g. that the path under test serves them). */
export async function pausedReaderGetsEverything(srv: TestServer, connected?: (jids: string[]) => void): Promise<void> {
  const slow = await anonymousRaw(srv.wsUrl, { keepBytes: true });
  const fast = await anonymousRaw(srv.wsUrl, { keepBytes: true });
  const sender = await anonymousRaw(srv.wsUrl);
  const [slowJid, fastJid] = [jidOf(slow), jidOf(fast)];
  connected?.([slowJid, fastJid, jidOf(sender)]);
  // the c2s session: its transport's held and socket-buffered bytes
  const slowSession = srv.server.router.sessionFor(slowJid) as unknown as { bufferedBytes(): number } | undefined;
  assert.type(slowSession?.bufferedBytes, 'function', 'no c2s session for the slow reader');
  const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();
  // ~2 KB each; every 10th also to the reader that keeps up. The flood goes on until the server has held 1 MB
  // for the paused reader (its releases kept by the socket), then 100 more.
  const body = (i: number) => `m${i} é€😀 ${'xyz'.repeat(600 + (i % 50))}`;
  const sent: string[] = [];
  let slowHeld = 0;
  let stopAt = 20_000;
  for (let i = 0; i < stopAt; i++) {
    const b = body(i);
    sent.push(b);
    const to = i % 10 === 0 ? [slowJid, fastJid] : [slowJid];
    for (const t of to)
      sender.send(`<message xmlns="jabber:client" to="${t}" type="headline"><body>${b}</body></message>`);
    if (i % 50 === 49) {
      sender.send(`<iq xmlns="jabber:client" type="get" id="p${i}" to="localhost"><ping xmlns="urn:xmpp:ping"/></iq>`);
      await sender.waitFor(new RegExp(`id="p${i}"`), 30_000);
      slowHeld = Math.max(slowHeld, slowSession!.bufferedBytes());
      if (slowHeld > 1 << 20 && stopAt === 20_000) stopAt = i + 101;
    }
  }
  assert.ok(slowHeld > 1 << 20, `the server held ${slowHeld} B for the paused reader: the test checks nothing`);
  socket.resume();
  const got = (c: RawWs) =>
    c.frames.filter((f) => f.startsWith('<message')).map((f) => /<body>([^<]*)<\/body>/.exec(f)?.[1]);
  const toFast = sent.filter((_, i) => i % 10 === 0);
  const deadline = Date.now() + 120_000;
  while ((got(slow).length < sent.length || got(fast).length < toFast.length) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  sameMessages(got(fast), toFast, 'the reader that kept up');
  sameMessages(got(slow), sent, 'the paused reader');
  assertWholeFrames(fast, 'the reader that kept up');
  assertWholeFrames(slow, 'the paused reader');
  for (const c of [slow, fast, sender]) c.close();
}
