// websocket.edge = process: the edge builds a connection's held frames, at release, in one buffer that the next
// release reuses when the socket took it whole, as the in-process transport does (test/core/release-buffer.test.ts):
// no new buffer per release for the garbage collector to free later. The edge reports how many releases it built in
// the reused buffer (EdgeLinkStats); the clients check that what they read is still every frame, whole and in order.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { anonymousRaw, jidOf } from '../helpers/raw-ws.js';
import { PAUSED_READER_LIMITS, assertWholeFrames, pausedReaderGetsEverything } from '../helpers/paused-reader.js';
import { mergeRaw } from '../../src/config.js';
import { EdgeTransport } from '../../src/edge/transport.js';

let srv: TestServer;
test.before(async () => {
  srv = await startTestServer(mergeRaw({ websocket: { edge: 'process' } }, PAUSED_READER_LIMITS));
});
test.after(async () => {
  await srv.stop();
});

function servedByEdge(jids: string[]): void {
  assert.ok(srv.server.edge?.ready, 'the edge process is not running');
  for (const jid of jids) {
    const session = srv.server.router.sessionFor(jid) as unknown as { transport?: unknown } | undefined;
    assert.ok(session?.transport instanceof EdgeTransport, `${jid} is served in-process, not by the edge process`);
  }
}

test('a reader that keeps up: its releases are built in the reused buffer, and every frame arrives whole', async () => {
  const reader = await anonymousRaw(srv.wsUrl, { keepBytes: true });
  const sender = await anonymousRaw(srv.wsUrl);
  const readerJid = jidOf(reader);
  servedByEdge([readerJid, jidOf(sender)]);
  const stats = srv.server.edge!.stats!;
  const releases0 = stats.releases;
  const reused0 = stats.releasesReused;
  // One message at a time, each waited for: one release each, taken whole by a socket with nothing queued. Sizes
  // from a few bytes to ~40 KB (all under the reused buffer's 64 KiB cap): it grows a few times (a new buffer each),
  // and a smaller release after a larger one is built in the start of it.
  const N = 200;
  const bodies: string[] = [];
  for (let i = 0; i < N; i++) {
    const b = `r${i} é€😀 ${'xyz'.repeat((i * 7919) % 13_000)}`;
    bodies.push(b);
    sender.send(`<message xmlns="jabber:client" to="${readerJid}" type="headline"><body>${b}</body></message>`);
    await reader.waitFor(new RegExp(`<body>r${i} `), 15_000);
  }
  // The edge reports its counts every 100 ms while they change: wait for both to be reported in full (the reused
  // count can reach its bound in a report that does not carry the last releases yet).
  const enough = N - 10;
  const deadline = Date.now() + 15_000;
  const reported = () => stats.releases - releases0 >= N && stats.releasesReused - reused0 >= enough;
  while (!reported() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const releases = stats.releases - releases0;
  const reused = stats.releasesReused - reused0;
  assert.ok(releases >= N, `the edge reported ${releases} releases for ${N} messages sent one at a time`);
  assert.ok(reused >= enough, `the edge built ${reused} of ${releases} releases in its reused buffer`);
  const got = reader.frames.filter((f) => f.startsWith('<message')).map((f) => /<body>([^<]*)<\/body>/.exec(f)?.[1]);
  assert.equal(got, bodies, 'messages lost, changed or out of order');
  assertWholeFrames(reader, 'the reader');
  reader.close();
  sender.close();
});

test('a paused reader of the edge gets every message intact once it reads again, beside one that keeps up', async () => {
  const reused0 = srv.server.edge!.stats!.releasesReused;
  await pausedReaderGetsEverything(srv, servedByEdge);
  // The reader that kept up and the sender's ping answers went on reusing the buffer while the paused socket kept its
  // releases (each one a buffer of its own, never written over: checked above).
  const deadline = Date.now() + 15_000;
  while (srv.server.edge!.stats!.releasesReused === reused0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  assert.ok(srv.server.edge!.stats!.releasesReused > reused0, 'no release of the flood was built in the reused buffer');
});

test.run();
