// A WebSocket connection's held frames are built, at release, in one buffer that the next release reuses when the
// socket took it whole: no new buffer per release for the garbage collector to free later (native memory that
// piled up during a join storm). A socket that keeps bytes (its reader is slow) keeps its buffer: nothing it holds
// is ever written over, which the paused real reader below checks end to end.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HeldFrames } from '../../src/xmpp/write-coalescing.js';
import { startTestServer } from '../helpers/server.js';
import { anonymousRaw } from '../helpers/raw-ws.js';
import { readFrames } from '../helpers/ws-frames.js';

const tick = () => new Promise((r) => process.nextTick(r));

test('a writer that takes each release whole gets the same buffer again', async () => {
  const seen: Array<{ bytes: Buffer; text: string[] }> = [];
  const held = new HeldFrames(
    undefined,
    (b) => seen.push({ bytes: b, text: readFrames(b) }),
    () => true,
  );
  const texts = ['<a>é€😀</a>', 'x'.repeat(300), '<b/>'];
  for (const t of texts) {
    held.frame(Buffer.from(t), false);
    await tick();
  }
  assert.equal(
    seen.map((s) => s.text),
    texts.map((t) => [t]),
  );
  const [a, b, c] = seen.map((s) => s.bytes);
  // Buffer.allocUnsafe's shared pool would give the same ArrayBuffer at another offset: check both.
  assert.ok(a!.buffer === b!.buffer && b!.buffer === c!.buffer, 'each release had a buffer of its own');
  assert.is(a!.byteOffset, b!.byteOffset);
  assert.is(b!.byteOffset, c!.byteOffset);
});

test('a writer that keeps a release keeps its buffer: the next release never writes over it', async () => {
  const kept: Buffer[] = [];
  let keeps = false;
  const held = new HeldFrames(
    undefined,
    (b) => kept.push(b),
    () => !keeps || kept.length === 0,
  );
  held.frame(Buffer.from('<first/>'), false);
  await tick(); // taken whole: the buffer goes back for reuse
  keeps = true; // from now on the writer holds what it is given (a slow reader's socket)
  held.frame(Buffer.from('<second/>'), false);
  await tick();
  held.frame(Buffer.from('<third-overwrites?/>'), false);
  await tick();
  assert.equal(readFrames(kept[1]!), ['<second/>'], 'a kept release was written over');
  assert.equal(readFrames(kept[2]!), ['<third-overwrites?/>']);
  assert.ok(kept[1]!.buffer !== kept[2]!.buffer || kept[1]!.byteOffset !== kept[2]!.byteOffset);
});

test('a paused reader gets every message intact once it reads again, beside a reader that keeps up', async () => {
  // Send limits far above the flood: the kernel's loopback buffers take several MB before the server holds any.
  const srv = await startTestServer({ limits: { maxSendBufferBytes: 256 << 20, maxTotalSendBufferBytes: 512 << 20 } });
  try {
    const slow = await anonymousRaw(srv.wsUrl);
    const fast = await anonymousRaw(srv.wsUrl);
    const sender = await anonymousRaw(srv.wsUrl);
    const jid = (c: typeof slow) => /<jid>([^<]+)<\/jid>/.exec(c.frames.join(''))![1]!;
    const [slowJid, fastJid] = [jid(slow), jid(fast)];
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
        sender.send(
          `<iq xmlns="jabber:client" type="get" id="p${i}" to="localhost"><ping xmlns="urn:xmpp:ping"/></iq>`,
        );
        await sender.waitFor(new RegExp(`id="p${i}"`), 30_000);
        slowHeld = Math.max(slowHeld, slowSession!.bufferedBytes());
        if (slowHeld > 1 << 20 && stopAt === 20_000) stopAt = i + 101;
      }
    }
    assert.ok(slowHeld > 1 << 20, `the server held ${slowHeld} B for the paused reader: the test checks nothing`);
    socket.resume();
    const got = (c: typeof slow) =>
      c.frames.filter((f) => f.startsWith('<message')).map((f) => /<body>([^<]*)<\/body>/.exec(f)?.[1]);
    const toFast = sent.filter((_, i) => i % 10 === 0);
    const deadline = Date.now() + 120_000;
    while ((got(slow).length < sent.length || got(fast).length < toFast.length) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(got(fast), toFast, 'the reader that kept up lost or mixed up messages');
    assert.equal(got(slow), sent, 'the paused reader lost or mixed up messages');
    for (const c of [slow, fast, sender]) c.close();
  } finally {
    await srv.stop();
  }
});

test.run();
