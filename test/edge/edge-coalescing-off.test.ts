// websocket.edge = process with c2s.coalesceMs 0: the edge holds nothing past the end of the main process's batch
// (the behaviour before the window), even with a widest window and a write budget that would otherwise hold a busy
// viewer's room messages for seconds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { anonymousRaw, jidOf, type RawWs } from '../helpers/raw-ws.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { EdgeTransport } from '../../src/edge/transport.js';

const ROOM = 'untimed@room.localhost';
let srv: TestServer;
let sender: TestClient;
let viewer: RawWs;

test.before(async () => {
  srv = await startTestServer({
    websocket: { edge: 'process' },
    c2s: { coalesceMs: 0, coalesceMaxMs: 5000, coalesceWritesPerSecond: 10 },
  });
  sender = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost', streamManagement: false });
  await sender.send(xml('presence', { to: `${ROOM}/sender` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
  await sender.waitFor((s) => s.is('presence') && s.attrs.from === `${ROOM}/sender`, 15_000, 'own join');
  viewer = await anonymousRaw(srv.wsUrl);
  const jid = jidOf(viewer);
  const session = srv.server.router.sessionFor(jid) as unknown as { transport?: unknown } | undefined;
  assert.ok(session?.transport instanceof EdgeTransport, 'the viewer is served in-process, not by the edge process');
  viewer.send(
    `<presence xmlns="jabber:client" to="${ROOM}/viewer"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`,
  );
  await viewer.waitFor(/<subject/, 15_000);
});
test.after(async () => {
  viewer?.close();
  await sender?.stop();
  await srv?.stop();
});

/**
 * Whether `frame` arrives within `ms`. The edge writes a batch's sockets one after the other at its end, the sender's
 * (its own message's echo, then the ping answer) before the viewer's as the sender joined first: on a loaded machine
 * the edge can be preempted between the two writes, so the viewer's copy may come a few ms after the ping answer.
 * A message held for a window (100 ms and more) does not come within 50 ms.
 */
const arrivesWithin = async (viewer: RawWs, frame: string, ms: number): Promise<boolean> => {
  const deadline = Date.now() + ms;
  for (;;) {
    if (viewer.frames.some((f) => f.includes(frame))) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 1));
  }
};

test('a busy viewer gets each room message in the write of its batch, not later', async () => {
  for (let i = 0; i < 20; i++) {
    await sender.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, `untimed ${i}`)));
    // The room fans out as it handles the message (no await in between), so the sender's ping is answered in the
    // same batch or a later one; the edge writes a batch's frames together at its end, so the viewer's copy leaves
    // with the ping answer or before it.
    await sender.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 15_000);
    assert.ok(await arrivesWithin(viewer, `>untimed ${i}<`, 50), `message ${i} was held past the end of its batch`);
  }
});

test.run();
