// Write coalescing (c2s.coalesceMs) seen from real clients, for every WebSocket path (in-process, and the edge
// process): with a window far longer than any step of these tests (5 s), a busy viewer's room frames are held, yet
// everything arrives complete and in order, an IQ answer is not held (and takes the held frames with it), stream
// management counts right, a stream error follows the held frames, and a viewer that stops reading is still dropped.
// The calling test file runs them (test.run()), after adding its own.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'ltx';
import { startTestServer, type TestServer } from './server.js';
import { anonymousRaw, jidOf, resumeRaw, type RawWs } from './raw-ws.js';
import { connectClient, xml, type TestClient } from './xmpp-client.js';
import type { Raw } from '../../src/config-schema.js';
import { mergeRaw } from '../../src/config.js';
import type { C2SSession } from '../../src/xmpp/c2s/session.js';

export interface CoalescingSuite {
  readonly srv: TestServer;
  readonly windowMs: number;
  /** A raw WebSocket viewer seated in the room, busy for the window: it has just received room frames. */
  viewer(nick: string, sm?: boolean): Promise<RawWs>;
  /** The sender posts a groupchat message. */
  post(body: string): Promise<void>;
  /** Index of the first frame matching `re`, -1 if none. */
  indexOf(c: RawWs, re: RegExp): number;
  /** A ping round trip of the sender: the server has handled (and fanned out) everything it posted before. */
  senderPing(): Promise<unknown>;
}

/**
 * Registers the tests on uvu's default suite against a server started with `overrides` (merged over the window).
 * `served(srv, jid)`: checks that a new viewer's session is served by the path under test (throws otherwise).
 */
export function coalescingTests(
  overrides: Raw = {},
  served: (srv: TestServer, jid: string) => void = () => {},
): CoalescingSuite {
  const WINDOW_MS = 5000;
  const ROOM = 'coalesce@room.localhost';
  let srv: TestServer;
  let sender: TestClient;
  const raws: RawWs[] = [];

  test.before(async () => {
    srv = await startTestServer(
      mergeRaw(
        {
          // The window itself is under test: it holds at any fan-out rate (this room's few viewers make little).
          c2s: { coalesceMs: WINDOW_MS, coalesceMaxBytes: 64 * 1024, coalesceMinFanoutPerSecond: 0 },
          limits: { maxSendBufferBytes: 1024 * 1024 },
        },
        overrides,
      ),
    );
    sender = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost', streamManagement: false });
    await sender.send(xml('presence', { to: `${ROOM}/sender` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
    await sender.waitFor((s) => s.is('presence') && s.attrs.from === `${ROOM}/sender`, 15_000, 'own join');
  });
  test.after(async () => {
    for (const r of raws) r.close();
    await sender.stop();
    await srv.stop();
  });

  async function viewer(nick: string, sm = false): Promise<RawWs> {
    const c = await anonymousRaw(srv.wsUrl);
    raws.push(c);
    served(srv, jidOf(c));
    if (sm) {
      c.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
      await c.waitFor(/<enabled /);
    }
    c.send(
      `<presence xmlns="jabber:client" to="${ROOM}/${nick}"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`,
    );
    await c.waitFor(/<subject/, 15_000);
    await post(`warm-up for ${nick}`);
    await c.waitFor(new RegExp(`warm-up for ${nick}<`), 15_000);
    return c;
  }

  const post = (body: string) => sender.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, body)));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const indexOf = (c: RawWs, re: RegExp) => c.frames.findIndex((f) => re.test(f));

  test('a burst of room messages mixed with IQ answers arrives complete, each frame one element, in order', async () => {
    const v = await viewer('burst');
    const N = 120;
    const pings: Array<Promise<string>> = [];
    for (let i = 0; i < N; i++) {
      await post(`burst ${i}`);
      if (i % 12 === 0) {
        v.send(`<iq xmlns="jabber:client" type="get" id="p${i}"><ping xmlns="urn:xmpp:ping"/></iq>`);
        pings.push(v.waitFor(new RegExp(`id=["']p${i}["']`), 15_000));
      }
    }
    await Promise.all(pings);
    await v.waitFor(new RegExp(`>burst ${N - 1}<`), 15_000);
    const seen: number[] = [];
    for (const f of v.frames) {
      const e = parse(f); // throws on a partial or doubled element
      const m = /^burst (\d+)$/.exec(e.getChildText('body') ?? '');
      if (e.name === 'message' && m) seen.push(Number(m[1]));
    }
    assert.equal(
      seen,
      Array.from({ length: N }, (_, i) => i),
      'messages missing, doubled or out of order',
    );
  });

  test('frames of every WebSocket header size (7-bit, 16-bit, 64-bit lengths) arrive whole to a ws client', async () => {
    const v = await viewer('sizes');
    // Payloads around 125/126 bytes and 65,535/65,536 bytes, where the frame header changes, and multi-byte UTF-8.
    const sizes = [1, 20, 60, 61, 62, 200, 65_300, 65_400, 70_000, 120_000];
    for (const n of sizes) await post(`size ${n} ${'é'.repeat(Math.floor(n / 2))}${'x'.repeat(n % 2)}`);
    // The sender's ping is answered after the server has handled (and fanned out) all its messages.
    await sender.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 15_000);
    v.send('<iq xmlns="jabber:client" type="get" id="sizes"><ping xmlns="urn:xmpp:ping"/></iq>');
    await v.waitFor(/id=["']sizes["']/, 15_000);
    for (const n of sizes) {
      const f = v.frames.find((x) => x.includes(`>size ${n} `));
      assert.ok(f, `the ${n}-character message is missing`);
      assert.is(parse(f).getChildText('body'), `size ${n} ${'é'.repeat(Math.floor(n / 2))}${'x'.repeat(n % 2)}`);
    }
  });

  test('an IQ answer on a busy socket is not held for the window, and the held frames leave with it, first', async () => {
    const v = await viewer('iq');
    // The join just flushed room frames: the next one is held for the window.
    await post('held before the ping');
    await sleep(300);
    assert.is(indexOf(v, /held before the ping/), -1, 'the room frame was not held (coalescing is not on)');
    const sent = Date.now();
    v.send('<iq xmlns="jabber:client" type="get" id="lone"><ping xmlns="urn:xmpp:ping"/></iq>');
    await v.waitFor(/id=["']lone["']/, WINDOW_MS * 3);
    const took = Date.now() - sent;
    assert.ok(took < WINDOW_MS / 2, `the IQ answer took ${took} ms: it waited for the ${WINDOW_MS} ms window`);
    const held = indexOf(v, /held before the ping/);
    assert.ok(held >= 0 && held < indexOf(v, /id=["']lone["']/), 'the held frame did not leave before the answer');
  });

  test("on a busy socket, what the viewer's own stanza causes at once is not held: its nick change", async () => {
    const v = await viewer('own');
    await post('held before my nick change');
    await sleep(300);
    assert.is(indexOf(v, /held before my nick change/), -1, 'the room frame was not held');
    const sent = Date.now();
    v.send(`<presence xmlns="jabber:client" to="${ROOM}/renamed"/>`);
    await v.waitFor(new RegExp(`from=["']${ROOM}/renamed["']`), WINDOW_MS * 3);
    assert.ok(Date.now() - sent < WINDOW_MS / 2, 'the answer to my nick change waited for the window');
    const held = indexOf(v, /held before my nick change/);
    assert.ok(held >= 0 && held < indexOf(v, new RegExp(`from=["']${ROOM}/renamed["']`)), 'held frame not first');
  });

  test("on a busy socket, other occupants' joins and leaves wait for the window with the room messages", async () => {
    const v = await viewer('crowd');
    const join = async (nick: string) => {
      const c = await anonymousRaw(srv.wsUrl);
      raws.push(c);
      c.send(
        `<presence xmlns="jabber:client" to="${ROOM}/${nick}"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`,
      );
      await c.waitFor(/<subject/, 15_000);
      return c;
    };
    const joinOf = (nick: string) =>
      new RegExp(`^<presence(?![^>]*type=["']unavailable)[^>]*from=["']${ROOM}/${nick}["']`);
    const leaveOf = (nick: string) =>
      new RegExp(
        `^<presence[^>]*(from=["']${ROOM}/${nick}["'][^>]*type=["']unavailable|type=["']unavailable["'][^>]*from=["']${ROOM}/${nick}["'])`,
      );
    await post('held before the join');
    const leaver = await join('leaver');
    leaver.send(`<presence xmlns="jabber:client" type="unavailable" to="${ROOM}/leaver"/>`);
    await leaver.waitFor(/type=["']unavailable["']/, 15_000);
    await sleep(300);
    assert.is(indexOf(v, /held before the join/), -1, 'the room message was not held');
    assert.is(indexOf(v, joinOf('leaver')), -1, "the other occupant's join was not held with the room message");
    assert.is(indexOf(v, leaveOf('leaver')), -1, "the other occupant's leave was not held with the room message");
    // The viewer's own request is answered at once and takes the held frames with it, in order.
    const sent = Date.now();
    v.send('<iq xmlns="jabber:client" type="get" id="crowd-ping"><ping xmlns="urn:xmpp:ping"/></iq>');
    await v.waitFor(/id=["']crowd-ping["']/, WINDOW_MS * 3);
    assert.ok(Date.now() - sent < WINDOW_MS / 2, 'the answer waited for the window');
    const order = [
      indexOf(v, /held before the join/),
      indexOf(v, joinOf('leaver')),
      indexOf(v, leaveOf('leaver')),
      indexOf(v, /id=["']crowd-ping["']/),
    ];
    assert.ok(
      order[0] >= 0 && order.every((x, i) => i === 0 || x > order[i - 1]),
      `missing or out of order (message, join, leave, answer): ${order}`,
    );
    // Leaving itself: what is held for the viewer still reaches it, before its stream's close.
    await post('held before my own leave');
    const second = await join('second');
    second.send(`<presence xmlns="jabber:client" type="unavailable" to="${ROOM}/second"/>`);
    await second.waitFor(/type=["']unavailable["']/, 15_000);
    await sleep(300);
    assert.is(indexOf(v, leaveOf('second')), -1, 'the second leave was not held');
    v.send(`<presence xmlns="jabber:client" type="unavailable" to="${ROOM}/crowd"/>`);
    v.send('<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>');
    await v.waitFor(/^<close/, WINDOW_MS / 2);
    const last = [
      indexOf(v, /held before my own leave/),
      indexOf(v, joinOf('second')),
      indexOf(v, leaveOf('second')),
      indexOf(v, /^<close/),
    ];
    assert.ok(
      last[0] >= 0 && last.every((x, i) => i === 0 || x > last[i - 1]),
      `held frames lost or after the close (message, join, leave, close): ${last}`,
    );
  });

  test('a quiet connection gets its first room frame and its IQ answers without waiting', async () => {
    const v = await anonymousRaw(srv.wsUrl);
    raws.push(v);
    served(srv, jidOf(v));
    const sent = Date.now();
    v.send('<iq xmlns="jabber:client" type="get" id="q1"><ping xmlns="urn:xmpp:ping"/></iq>');
    await v.waitFor(/id=["']q1["']/, WINDOW_MS * 3);
    assert.ok(Date.now() - sent < WINDOW_MS / 2, 'a lone IQ answer waited for the window');
    // Login answers do not make a socket busy: the join's frames leave at once.
    const joined = Date.now();
    v.send(`<presence xmlns="jabber:client" to="${ROOM}/quiet"><x xmlns="http://jabber.org/protocol/muc"/></presence>`);
    await v.waitFor(/<subject/, WINDOW_MS * 3);
    assert.ok(Date.now() - joined < WINDOW_MS / 2, 'the join answer of a quiet connection waited for the window');
  });

  test('stream management: acks count every held stanza, and a resumed stream gets exactly the unreceived ones', async () => {
    const v = await viewer('sm', true);
    const enabledAt = indexOf(v, /<enabled /);
    // Stanzas received since <enabled/> (what `h` counts).
    const stanzas = () => v.frames.slice(enabledAt + 1).filter((f) => /^<(message|presence|iq)[\s>]/.test(f)).length;
    for (let i = 0; i < 15; i++) await post(`sm ${i}`);
    // An ack request from the client is answered at once and releases what is held.
    v.send("<r xmlns='urn:xmpp:sm:3'/>");
    // h=1: the join presence is the one stanza this client sent since <enabled/>.
    await v.waitFor(/<a xmlns=["']urn:xmpp:sm:3["'] h=["']1["']/, WINDOW_MS / 2);
    await v.waitFor(/>sm 14</, WINDOW_MS * 3);
    const h = stanzas();
    v.send(`<a xmlns='urn:xmpp:sm:3' h='${h}'/>`);
    // Held again (the socket is busy), then the connection is lost before the window ends.
    await post('lost with the connection');
    await sleep(300);
    assert.is(indexOf(v, /lost with the connection/), -1, 'the frame was not held');
    const previd = /<enabled [^>]*id=["']([^"']+)["']/.exec(v.frames.join(''))![1];
    v.close();
    await v.closed;
    const jid = jidOf(v);
    const t0 = Date.now();
    const hibernating = () => (srv.server.router.sessionFor(jid) as C2SSession | undefined)?.connected === false;
    while (!hibernating() && Date.now() - t0 < 10_000) await sleep(20);
    assert.ok(hibernating(), 'the session did not wait for resumption');
    assert.not.ok(
      v.frames.some((f) => f.includes('stream:error')),
      `the acks were refused: ${v.frames.join('\n')}`,
    );
    const again = await resumeRaw(srv.wsUrl, previd, h);
    raws.push(again);
    await again.waitFor(/lost with the connection/, 10_000);
    const replayed = again.frames.filter((f) => f.startsWith('<message') && f.includes('<body>'));
    assert.is(replayed.length, 1, `replayed: ${replayed.join('\n')}`);
  });

  test('a stream error after held frames: the frames first, then the error, then the close', async () => {
    const v = await viewer('error');
    await post('held before the error');
    await sleep(300);
    assert.is(indexOf(v, /held before the error/), -1, 'the frame was not held');
    v.send('<iq xmlns="jabber:client" type="get" id="cut">'); // not a whole element: not-well-formed
    await v.closed;
    const held = indexOf(v, /held before the error/);
    const error = indexOf(v, /<stream:error/);
    const close = indexOf(v, /<close /);
    assert.ok(held >= 0, `the held frame was lost: ${v.frames.slice(-3).join('\n')}`);
    assert.ok(error > held && close > error, `order: frame ${held}, error ${error}, close ${close}`);
    assert.match(v.frames[error], /not-well-formed/);
  });

  test('a client that closes the stream mid-window gets the held frames before the server closes', async () => {
    const v = await viewer('bye');
    await post('held before my close');
    await sleep(300);
    assert.is(indexOf(v, /held before my close/), -1, 'the frame was not held');
    v.send('<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>');
    await v.closed;
    const held = indexOf(v, /held before my close/);
    const close = indexOf(v, /^<close /);
    assert.ok(held >= 0, `the held frame was lost: ${v.frames.slice(-3).join('\n')}`);
    assert.ok(close > held, `order: frame ${held}, close ${close}`);
  });

  test('a client that sends its WebSocket close frame mid-window still gets the held frames', async () => {
    const v = await viewer('gone');
    await post('held before my close frame');
    await sleep(300);
    assert.is(indexOf(v, /held before my close frame/), -1, 'the frame was not held');
    v.ws.close(1000);
    const code = await v.closed;
    assert.ok(indexOf(v, /held before my close frame/) >= 0, `the held frame was lost (close code ${code})`);
  });

  test('a viewer that stops reading is still dropped by the send-buffer bound; a reading one gets everything', async () => {
    const slow = await viewer('slow');
    const reader = await viewer('reader');
    const slowJid = jidOf(slow);
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const body = 'y'.repeat(4000);
    let i = 0;
    // Far past kernel buffers and the 1 MiB bound, unless the slow viewer is dropped first. The reader runs on this
    // same thread, and so does the sender (an occupant, getting its messages back): every 20 messages both ask for a
    // ping, whose answer releases their held frames, and wait for it, so that neither falls behind (the frames one
    // tick writes count against the bound too, and the sender's posts arrive in bursts).
    for (; i < 4000 && srv.server.router.sessionFor(slowJid); i++) {
      await post(`${i} ${body}`);
      if (i % 20 === 19) {
        reader.send(`<iq xmlns="jabber:client" type="get" id="sync${i}"><ping xmlns="urn:xmpp:ping"/></iq>`);
        await Promise.all([
          reader.waitFor(new RegExp(`id=["']sync${i}["']`), 15_000),
          sender.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 15_000),
        ]);
      }
    }
    const t0 = Date.now();
    while (srv.server.router.sessionFor(slowJid) && Date.now() - t0 < 15_000) await sleep(50);
    assert.is(srv.server.router.sessionFor(slowJid), undefined, 'the slow viewer was not dropped');
    assert.ok(srv.server.router.sessionFor(jidOf(reader)), 'the reading viewer was dropped');
    await post('after the drop');
    await reader.waitFor(/after the drop/, WINDOW_MS * 3);
    const got = reader.frames.filter((f) => f.includes(body)).length;
    assert.is(got, i, 'the reading viewer missed room messages');
  });

  return {
    get srv() {
      return srv;
    },
    windowMs: WINDOW_MS,
    viewer,
    post,
    indexOf,
    senderPing: () =>
      sender.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 15_000),
  };
}
