// The fan-out's shared pieces: a prepared stanza escapes each recipient's JID in its `to` (a resource may hold any
// character), a WebSocket's held frames leave as one write of whole frames, and sockets corked during one tick are all uncorked together at its end with every byte delivered;
// busy sockets held for the coalescing window share one timer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, connect, type Socket } from 'node:net';
import { parse } from 'ltx';
import { el } from '../../src/xmpp/xml.js';
import { PreparedStanza } from '../../src/xmpp/prepared.js';
import { CorkedWrites, HeldFrames, WriteCoalescer } from '../../src/xmpp/write-coalescing.js';
import { readFrames } from '../helpers/ws-frames.js';

test('a prepared stanza escapes the characters XML needs escaped in a recipient JID, and only those', () => {
  const p = new PreparedStanza(
    el('message', { from: 'r@muc.localhost/nick', type: 'groupchat' }, el('body', {}, 'a < b & "c"')),
  );
  const plain = p.forClient('v@anon.localhost/abc');
  assert.ok(plain.startsWith('<message xmlns="jabber:client" to="v@anon.localhost/abc" '), plain);
  const odd = `v@anon.localhost/a&b<c>'"d`;
  const xml = p.forClient(odd);
  assert.ok(xml.includes('to="v@anon.localhost/a&amp;b&lt;c&gt;&apos;&quot;d"'), xml);
  const back = parse(xml);
  assert.is(back.attrs.to, odd, 'the parsed `to` is not the JID');
  assert.is(back.getChildText('body'), 'a < b & "c"');
  // The same bytes from a second recipient: only `to` differs.
  assert.is(p.forClient('w@anon.localhost/x').replace('w@anon.localhost/x', 'v@anon.localhost/abc'), plain);
  assert.ok(p.forServer(odd).startsWith('<message xmlns="jabber:server" to="v@anon.localhost/a&amp;b'));
});

test("an answer made with withId carries the request's id, escaped, in every form; the tail is shared", () => {
  const base = new PreparedStanza(
    el('iq', { type: 'result', from: 'r@muc.localhost/Tom & "J"' }, el('vCard', { xmlns: 'vcard-temp' })),
  ).retain();
  const id = `a&b"c'<d>é`;
  const one = base.withId(id);
  const two = base.withId('2');
  const to = 'v@anon.localhost/é';
  const text = one.forClient(to);
  assert.ok(
    text.startsWith('<iq xmlns="jabber:client" id="a&amp;b&quot;c&apos;&lt;d&gt;é" to="v@anon.localhost/é" '),
    text,
  );
  // The byte path (head with the id, the recipient, the shared tail) is the same stanza as the text path.
  const toBytes = Buffer.from(to);
  const bytes = Buffer.concat([Buffer.from(one.spliceHead()), one.spliceMid(toBytes), one.spliceTail() as Buffer]);
  assert.is(bytes.toString(), text);
  assert.is(one.spliceTail(), two.spliceTail(), 'one tail buffer for every answer');
  assert.is(one.spliceTail(), base.tailBytes());
  const back = parse(text);
  assert.equal(back.attrs, {
    xmlns: 'jabber:client',
    id,
    to,
    type: 'result',
    from: 'r@muc.localhost/Tom & "J"',
  });
  assert.ok(back.getChild('vCard', 'vcard-temp'));
  assert.ok(one.forServer(to).startsWith('<iq xmlns="jabber:server" id="a&amp;b'));
  assert.is(one.toElement(to).attrs.id, id);
  assert.is(one.toElement(to).attrs.to, to);
  assert.is(base.element.attrs.id, undefined, "the base stanza's tree is not changed");
  assert.is(two.forClient(to).replace('id="2"', `id="${'a&amp;b&quot;c&apos;&lt;d&gt;é'}"`), text);
});

/** `n` loopback TCP connections: the server's sockets, the clients, what each client has read so far. */
async function socketPairs(n: number) {
  const accepted: Socket[] = [];
  const server = createServer((s) => accepted.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const clients = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((r) => {
          const c = connect(port, '127.0.0.1', () => r(c));
        }),
    ),
  );
  while (accepted.length < n) await new Promise((r) => setImmediate(r));
  const got = clients.map(() => '');
  clients.forEach((c, i) => c.on('data', (d) => (got[i] += d.toString())));
  const close = async () => {
    for (const s of [...clients, ...accepted]) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { accepted, clients, got, close };
}

/** Bytes of these payloads as WebSocket text frames: UTF-8 payload plus a 2, 4 or 10-byte header. */
function framedSize(payloads: string[]): number {
  return payloads.reduce((n, t) => {
    const len = Buffer.byteLength(t);
    return n + len + (len < 126 ? 2 : len < 65_536 ? 4 : 10);
  }, 0);
}

test('held WebSocket frames of every header size leave whole, in order, in one write, and count while held', async () => {
  const writes: Buffer[] = [];
  const held = new HeldFrames(undefined, { writeHeld: (b) => void writes.push(b) });
  const texts = ['<a/>', 'é'.repeat(70), 'x'.repeat(125), 'y'.repeat(126), 'z'.repeat(65_535), 'w'.repeat(70_000)];
  const [head, to, tail] = ['<message xmlns="jabber:client" to="', 'v@anon.localhost/é&amp;', '"><body/></message>'];
  held.frame(Buffer.from(texts[0]!), false);
  held.frame3(Buffer.from(head), Buffer.from(to), Buffer.from(tail), true);
  for (const t of texts.slice(1)) held.frame(Buffer.from(t), true);
  const expected = [texts[0], head + to + tail, ...texts.slice(1)];
  const size = framedSize(expected as string[]);
  assert.is(held.bytes, size, 'held bytes do not count every frame and header');
  assert.is(writes.length, 0, 'written before the end of the tick');
  await new Promise((r) => process.nextTick(r));
  assert.is(writes.length, 1, 'the held frames did not leave in one write');
  assert.is(held.bytes, 0);
  assert.equal(readFrames(writes[0]!), expected);
  // A flush writes at once; nothing is written twice.
  held.frame(Buffer.from('<b/>'), false);
  held.flush();
  await new Promise((r) => process.nextTick(r));
  assert.is(writes.length, 2);
  assert.equal(readFrames(writes[1]!), ['<b/>']);
});

test('frames held as text (whole, or as a spliced tail) are encoded to UTF-8 into the release, every header size', async () => {
  const writes: Buffer[] = [];
  const held = new HeldFrames(undefined, { writeHeld: (b) => void writes.push(b) });
  // Multi-byte characters straddling each header size: the length must be counted in bytes, not characters.
  const texts = ['<a/>', 'é'.repeat(62), 'é'.repeat(63), '€'.repeat(21_845), '😀'.repeat(16_384), 'ü'.repeat(40_000)];
  const [head, to, tail] = ['<presence xmlns="jabber:client" to="', 'v@anon.localhost/x', '" from="r@m/Zoë 🎥"/>'];
  held.frame(texts[0]!, false);
  held.frame3(Buffer.from(head), Buffer.from(to), tail, true);
  held.frame(Buffer.from(texts[1]!), true);
  for (const t of texts.slice(2)) held.frame(t, true);
  const expected = [texts[0], head + to + tail, ...texts.slice(1)];
  const size = framedSize(expected as string[]);
  assert.is(held.bytes, size, 'held bytes do not count the text frames in UTF-8 bytes');
  await new Promise((r) => process.nextTick(r));
  assert.is(writes.length, 1, 'the held frames did not leave in one write');
  assert.is(writes[0]!.length, size, 'the release is not exactly the frames');
  assert.equal(readFrames(writes[0]!), expected);
});

test('a compacted stanza hands its tail as text (no buffer per send); a kept tree shares one tail buffer', () => {
  const presence = () =>
    new PreparedStanza(
      el('presence', { from: 'room@muc.localhost/Zoë' }, el('x', { xmlns: 'http://jabber.org/protocol/muc#user' })),
      true,
    );
  const kept = presence();
  assert.ok(Buffer.isBuffer(kept.spliceTail()));
  assert.is(kept.spliceTail(), kept.spliceTail(), 'a kept tree encodes its tail once');
  const compact = presence().compact();
  const t = compact.spliceTail();
  assert.type(t, 'string', 'a compacted stanza should hand its tail as text');
  assert.is(Buffer.from(t as string).toString(), (kept.spliceTail() as Buffer).toString(), 'not the same tail');
});

test('sockets corked in one tick are all uncorked at its end and every frame arrives', async () => {
  const { accepted, clients, got, close } = await socketPairs(5);
  const corks = accepted.map(() => new CorkedWrites());
  for (let frame = 0; frame < 3; frame++)
    accepted.forEach((s, i) => {
      corks[i]!.hold(s);
      s.write(`<f${frame}/>`);
    });
  assert.ok(
    accepted.every((s) => s.writableCorked === 1),
    'a socket was not held (or held twice)',
  );
  await new Promise((r) => process.nextTick(r));
  assert.ok(
    accepted.every((s) => s.writableCorked === 0),
    'a socket stayed corked after the tick',
  );
  const deadline = Date.now() + 10_000;
  while (got.some((g) => g.length < 15) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(
    got,
    clients.map(() => '<f0/><f1/><f2/>'),
  );
  // A later tick holds again.
  corks[0]!.hold(accepted[0]!);
  assert.is(accepted[0]!.writableCorked, 1);
  await new Promise((r) => process.nextTick(r));
  assert.is(accepted[0]!.writableCorked, 0);
  await close();
});

test('busy sockets held for the coalescing window share one timer and release every frame, in order', async () => {
  const N = 40;
  const { accepted, clients, got, close } = await socketPairs(N);
  const co = new WriteCoalescer({ windowMs: 400, maxHeldBytes: 1 << 20 });
  const corks = accepted.map(() => new CorkedWrites(co));
  const write = (frame: string) =>
    accepted.forEach((s, i) => {
      corks[i]!.hold(s, true);
      s.write(frame);
    });
  // Timers armed while the sockets are held (the coalescer's timer is unref'd: not an active resource to count).
  let armed = 0;
  const realSetTimeout = globalThis.setTimeout;
  try {
    write('<a/>'); // quiet sockets: released at the end of the tick
    await new Promise((r) => setImmediate(r));
    assert.ok(
      accepted.every((s) => s.writableCorked === 0),
      'a quiet socket was held past its tick',
    );
    globalThis.setTimeout = ((...a: Parameters<typeof setTimeout>) => {
      armed++;
      return realSetTimeout(...a);
    }) as typeof setTimeout;
    write('<b/>'); // busy now: held for the window
    await new Promise((r) => setImmediate(r));
    write('<c/>');
    globalThis.setTimeout = realSetTimeout;
    await new Promise((r) => setImmediate(r));
    assert.ok(
      accepted.every((s) => s.writableCorked === 1),
      'a busy socket was not held across ticks',
    );
    assert.is(armed, 1, `${N} held sockets should share one timer`);
    const deadline = Date.now() + 10_000;
    while (got.some((g) => g !== '<a/><b/><c/>') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(
      got,
      clients.map(() => '<a/><b/><c/>'),
    );
    assert.ok(
      accepted.every((s) => s.writableCorked === 0),
      'a socket stayed corked after the window',
    );
  } finally {
    globalThis.setTimeout = realSetTimeout;
    await close();
  }
});

test.run();
