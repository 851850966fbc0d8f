// Several clients that stop reading, each under its own send-buffer bound, together pass the server-wide budget
// (limits.maxTotalSendBufferBytes): the one holding the most unsent bytes is dropped first with a stream error, the
// others stay, and a client that reads keeps getting its messages.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml } from '../helpers/xmpp-client.js';
import { anonymousRaw, jidOf, type RawWs } from '../helpers/raw-ws.js';
import { createServer } from '../../src/index.js';
import { ConfigError } from '../../src/config.js';

const KiB = 1024;
let srv: TestServer;
test.before(async () => {
  srv = await startTestServer({
    limits: { maxSendBufferBytes: 1024 * KiB, maxTotalSendBufferBytes: 1536 * KiB },
    streamManagement: { enabled: false },
  });
});
test.after(async () => {
  await srv.stop();
});

interface Slow {
  raw: RawWs;
  jid: string;
}

async function slowClient(): Promise<Slow> {
  const raw = await anonymousRaw(srv.wsUrl);
  const jid = jidOf(raw);
  (raw.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // the client stops reading
  return { raw, jid };
}

type Buffered = { bufferedBytes(): number; sendRaw(xml: string): void };
const session = (jid: string) => srv.server.router.sessionFor(jid) as unknown as Buffered | undefined;

/**
 * Writes 2 KB headlines to `jid` through its session (the path room fan-out takes) until the server holds at least
 * `target` bytes for it in user space, past what the kernel's socket buffers absorb. Bounded in count.
 */
async function fill(jid: string, target: number): Promise<void> {
  const body = 'y'.repeat(2000);
  for (let round = 0; round < 4000; round++) {
    const s = session(jid);
    if (!s) throw new Error(`${jid} was dropped while filling`);
    if (s.bufferedBytes() >= target) return;
    for (let i = 0; i < 8; i++)
      s.sendRaw(
        `<message xmlns="jabber:client" type="headline" to="${jid}" from="localhost"><body>${body}</body></message>`,
      );
    await new Promise((r) => setTimeout(r, 0)); // let the socket hand what it can to the kernel
  }
  throw new Error(`could not make the server buffer ${target} bytes for ${jid}`);
}

test('past the total budget, the client holding the most is dropped with resource-constraint; the rest stay', async () => {
  const reader = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  const a = await slowClient();
  const b = await slowClient();
  const c = await slowClient();
  await fill(a.jid, 700 * KiB); // each under its own 1 MiB bound
  await fill(b.jid, 450 * KiB);
  assert.ok(session(a.jid) && session(b.jid), 'under the budget nobody is dropped');
  await fill(c.jid, 400 * KiB); // 1550+ KiB together: over the 1536 KiB budget
  const t0 = Date.now();
  while (session(a.jid) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
  assert.is(session(a.jid), undefined, 'the client holding the most was dropped');
  // a starts reading again: behind its backlog it finds the stream error saying why
  (a.raw.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  const err = await a.raw.waitFor(/<stream:error|<error/, 10_000);
  assert.match(err, /resource-constraint/);
  await a.raw.closed;
  assert.ok(session(b.jid), 'the second largest stays: dropping the largest was enough');
  assert.ok(session(c.jid), 'the smallest stays');
  assert.ok(srv.server.sendBudget.stats.dropped >= 1);
  // the server keeps serving a client that reads
  const sender = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  await sender.send(xml('message', { to: reader.jid, type: 'chat' }, xml('body', {}, 'still here')));
  await reader.waitFor((s) => s.getChildText('body') === 'still here', 10_000);
  for (const s of [b, c]) s.raw.close();
  await sender.stop();
  await reader.stop();
});

test('the budget is on by default: 64 MiB for all clients together, above the 4 MiB per client', async () => {
  const plain = await startTestServer();
  try {
    assert.is(plain.server.sendBudget.limitBytes, 64 * 1024 * KiB);
    assert.is(plain.server.config.limits.maxSendBufferBytes, 4 * 1024 * KiB);
  } finally {
    await plain.stop();
  }
});

test('a total budget below the per-client bound is refused, naming the field', () => {
  try {
    createServer({
      dataDir: '/nonexistent',
      limits: { maxSendBufferBytes: 1024 * KiB, maxTotalSendBufferBytes: 512 * KiB },
    });
    assert.unreachable('accepted');
  } catch (e) {
    assert.instance(e, ConfigError);
    assert.match((e as Error).message, /limits\.maxTotalSendBufferBytes/);
  }
});

test.run();
