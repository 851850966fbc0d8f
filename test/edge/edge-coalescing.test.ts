// websocket.edge = process: the edge process holds a busy viewer's room frames for the coalescing window as the
// in-process transport does (the shared tests: test/helpers/coalescing-suite.ts, every viewer checked to be the
// edge's), and a busy room's messages reach a viewer in fewer socket reads than there are messages.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { coalescingTests } from '../helpers/coalescing-suite.js';
import { EdgeTransport } from '../../src/edge/transport.js';

const suite = coalescingTests({ websocket: { edge: 'process' } }, (srv, jid) => {
  assert.ok(srv.server.edge?.ready, 'the edge process is not running');
  const session = srv.server.router.sessionFor(jid) as unknown as { transport?: unknown } | undefined;
  assert.ok(session?.transport instanceof EdgeTransport, `${jid} is served in-process, not by the edge process`);
});

test('a busy room: the held messages and the IQ answer after them reach the viewer in a few socket reads', async () => {
  const v = await suite.viewer('reads');
  const socket = (v.ws as unknown as { _socket: import('node:net').Socket })._socket;
  let reads = 0;
  socket.on('data', () => reads++);
  const N = 30;
  for (let i = 0; i < N; i++) await suite.post(`read ${i}`);
  await suite.senderPing();
  await new Promise((r) => setTimeout(r, 300));
  assert.is(suite.indexOf(v, /read 0</), -1, 'the room frames were not held');
  const before = v.frames.length;
  v.send('<iq xmlns="jabber:client" type="get" id="reads"><ping xmlns="urn:xmpp:ping"/></iq>');
  await v.waitFor(/id=["']reads["']/, suite.windowMs / 2);
  const got = v.frames.slice(before);
  const bodies = got.map((f) => />read (\d+)</.exec(f)?.[1]).filter((x) => x !== undefined);
  assert.equal(
    bodies.map(Number),
    Array.from({ length: N }, (_, i) => i),
    'messages missing or out of order',
  );
  assert.match(got[got.length - 1], /id=["']reads["']/, 'the IQ answer did not follow the held messages');
  assert.ok(reads <= 3, `${got.length} frames took ${reads} socket reads: they were not written together`);
});

test('frames held for the window are not reported to the main process, one record per viewer each time', async () => {
  const viewers = [await suite.viewer('quiet-a'), await suite.viewer('quiet-b'), await suite.viewer('quiet-c')];
  const stats = suite.srv.server.edge!.stats!;
  const reportsBefore = stats.bufferedReports;
  const N = 10; // ~5 KB held per viewer: below the edge's reporting step
  for (let i = 0; i < N; i++) await suite.post(`held ${i}`);
  await suite.senderPing();
  await new Promise((r) => setTimeout(r, 300));
  for (const v of viewers) assert.is(suite.indexOf(v, /held 0</), -1, 'the room frames were not held');
  assert.is(stats.bufferedReports - reportsBefore, 0, 'the edge reported bytes that were only held for the window');
  for (const [i, v] of viewers.entries()) {
    v.send(`<iq xmlns="jabber:client" type="get" id="held-${i}"><ping xmlns="urn:xmpp:ping"/></iq>`);
    await v.waitFor(new RegExp(`id=["']held-${i}["']`), suite.windowMs / 2);
    const bodies = v.frames.map((f) => />held (\d+)</.exec(f)?.[1]).filter((x) => x !== undefined);
    assert.equal(
      bodies.map(Number),
      Array.from({ length: N }, (_, k) => k),
      'messages missing or out of order',
    );
  }
});

test.run();
