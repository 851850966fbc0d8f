// A server that falls behind (event loop stalled by CPU starvation or a join storm) must not take its own lateness
// for its clients' silence: live clients stay, a client that truly stops answering is still dropped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { anonymousRaw, rawWs, type RawWs } from '../helpers/raw-ws.js';

const CLIENTS = 200;
const PING_AFTER_S = 1;
const IDLE_S = 3;
const AUTH_S = 3;

let srv: TestServer;
test.before(async () => {
  srv = await startTestServer({
    limits: { pingAfterSeconds: PING_AFTER_S, idleTimeoutSeconds: IDLE_S, authTimeoutSeconds: AUTH_S },
  });
});
test.after(async () => {
  await srv.stop();
});

/** Answers every XEP-0199 ping from the server, as ConverseJS and the bench's viewers do. */
function answerPings(c: RawWs): void {
  c.ws.on('message', (d) => {
    const s = d.toString();
    if (!/<ping xmlns="urn:xmpp:ping"/.test(s)) return;
    const id = /\bid="([^"]+)"/.exec(s)?.[1];
    const from = /\bfrom="([^"]+)"/.exec(s)?.[1];
    c.send(`<iq xmlns="jabber:client" type="result" id="${id}" to="${from}"/>`);
  });
}

/** Blocks the event loop (server and clients share this process) the way a starved or flooded server is blocked. */
function stallEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    /* busy */
  }
}

/** Resolves once `c` has received `n` more pings from the server; rejects if it is closed first. */
function pingsAfter(c: RawWs, n: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const t = setTimeout(() => reject(new Error(`no ${n} pings within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (d: Buffer): void => {
      if (!/<ping xmlns="urn:xmpp:ping"/.test(d.toString())) return;
      if (++seen < n) return;
      clearTimeout(t);
      c.ws.off('message', onMessage);
      resolve();
    };
    c.ws.on('message', onMessage);
    void c.closed.then(() => {
      clearTimeout(t);
      const why = c.frames.find((f) => /stream:error|<close/.test(f)) ?? 'no stream error';
      reject(new Error(`a live client was closed by the server: ${why}`));
    });
  });
}

test(`${CLIENTS} clients answering pings survive an event-loop stall longer than the idle timeout`, async () => {
  const live: RawWs[] = [];
  for (let i = 0; i < CLIENTS; i += 20) {
    const batch = await Promise.all(Array.from({ length: Math.min(20, CLIENTS - i) }, () => anonymousRaw(srv.wsUrl)));
    for (const c of batch) answerPings(c);
    live.push(...batch);
  }
  // One client that never answers: it must still be dropped, stall or not.
  const dead = await anonymousRaw(srv.wsUrl);
  // Every live client has been through a ping round trip before the stall.
  await Promise.all(live.map((c) => c.waitFor(/<ping xmlns="urn:xmpp:ping"/, 30_000)));

  // A stream that opened just before the stall authenticates right after it: it is not past its auth deadline.
  const late = await rawWs(srv.wsUrl);
  late.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="anon.localhost" version="1.0"/>');
  await late.waitFor(/<mechanism>ANONYMOUS<\/mechanism>/);

  stallEventLoop((IDLE_S + 2) * 1000);

  late.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
  const authAnswer = late.waitFor(/<success|<connection-timeout/, 30_000);

  // After the stall each live client is pinged twice more: the server read the first answer and kept the client.
  const survived = await Promise.allSettled(live.map((c) => pingsAfter(c, 2, 30_000)));
  const dropped = survived.filter((r) => r.status === 'rejected');
  assert.is(
    dropped.length,
    0,
    `${dropped.length} of ${CLIENTS} live clients dropped; first: ${(dropped[0] as PromiseRejectedResult | undefined)?.reason}`,
  );
  for (const c of live) assert.is(c.ws.readyState, c.ws.OPEN);
  assert.match(
    await authAnswer,
    /<success/,
    'a stream opened just before the stall was timed out during authentication',
  );

  await dead.waitFor(/<connection-timeout xmlns="urn:ietf:params:xml:ns:xmpp-streams"/, 30_000);
  await dead.closed;
  for (const c of live) c.close();
  late.close();
});

test.run();
