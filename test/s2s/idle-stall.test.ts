// A server whose event loop stalls (a long GC, a CPU-bound burst) must not take its own lateness for its S2S peers'
// silence: streams busy right before the stall carry on after it, over TCP and over WebSocket S2S, a stream that
// then stays quiet is still closed after the idle timeout, and a peer that opened its stream just before the stall
// can still authenticate after it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { rawWsS2s, legacyHeader } from '../s2s-ws/helpers/raw-ws-s2s.js';
import { DialbackKeys } from '../../src/s2s/dialback-key.js';
import { mergeRaw } from '../../src/config.js';
import type { Raw } from '../../src/config-schema.js';

const IDLE_S = 5; // the smallest s2s.idleTimeoutSeconds allowed
const AUTH_S = 2; // limits.authTimeoutSeconds: an incoming S2S stream has twice that to authenticate
const T = 20_000;

const dirs: string[] = [];
const servers: TestServer[] = [];
const clients: TestClient[] = [];

test.after(async () => {
  for (const c of clients) await c.stop().catch(() => {});
  for (const s of servers) await s.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

type Transport = 'tcp' | 'websocket';

/** A server that finds its peers through a serverInfos folder, speaking `transport` S2S. */
async function start(
  domain: string,
  transport: Transport,
  extra: Raw = {},
): Promise<{ srv: TestServer; infos: string }> {
  const infos = await mkdtemp(join(tmpdir(), 'infos-'));
  dirs.push(infos);
  const srv = await startTestServer(
    mergeRaw(
      {
        domain,
        testMode: true,
        s2s: {
          ...(transport === 'tcp' ? { enabled: true, interfaces: ['127.0.0.1'], port: 0 } : {}),
          idleTimeoutSeconds: IDLE_S,
          websocket: { enabled: true, serverInfosDir: infos },
        },
      },
      extra,
    ),
  );
  servers.push(srv);
  return { srv, infos };
}

/** Tells `infos` how to reach `of` (direct S2S when it listens for it, which peers then prefer). */
async function describe(infos: string, of: TestServer, domain: string): Promise<void> {
  const tcp = of.server.s2s!.addresses?.starttls[0];
  for (const h of [domain, `anon.${domain}`]) {
    await mkdir(join(infos, h), { recursive: true });
    await writeFile(
      join(infos, h, 'ws-s2s'),
      JSON.stringify({ host: domain, url: `ws://127.0.0.1:${of.port}/xmpp-websocket-s2s` }),
    );
    if (tcp) await writeFile(join(infos, h, 's2s'), JSON.stringify({ host: 'localhost', port: String(tcp.port) }));
  }
}

/** Blocks the event loop (both servers and the clients share this process), as a long GC or a busy burst does. */
function stallEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    /* busy */
  }
}

/** How many stanzas the stream from `from` to `to` has carried, as each end counts them; null when there is none. */
function streamCounts(sender: TestServer, receiver: TestServer, from: string, to: string) {
  const out = sender.server.s2s!.status().outgoing.find((o) => o.local === from && o.remote === to);
  const inc = receiver.server.s2s!.status().incoming.filter((i) => i.verified.includes(`${from}|${to}`));
  return {
    sent: out?.state === 'ready' ? out.sent : null,
    routed: inc.length === 1 ? inc[0].routed : null,
    transport: out?.transport,
  };
}

for (const transport of ['tcp', 'websocket'] as const) {
  test(`${transport} S2S streams busy before an event-loop stall longer than the idle timeout survive it`, async () => {
    const [a, b] = [await start(`a-${transport}.example`, transport), await start(`b-${transport}.example`, transport)];
    await describe(a.infos, b.srv, `b-${transport}.example`);
    await describe(b.infos, a.srv, `a-${transport}.example`);
    const va = await connectClient({ service: a.srv.wsUrl, domain: `anon.a-${transport}.example` });
    const vb = await connectClient({ service: b.srv.wsUrl, domain: `anon.b-${transport}.example` });
    clients.push(va, vb);
    const [ja, jb] = [va.jid.split('/')[0].split('@')[1], vb.jid.split('/')[0].split('@')[1]];
    let n = 0;
    /** One chat message each way, each waited for at the other end. */
    const exchange = async () => {
      const [toB, toA] = [`to b ${++n}`, `to a ${n}`];
      await va.send(xml('message', { to: vb.jid, type: 'chat' }, xml('body', {}, toB)));
      await vb.waitFor((s) => s.getChildText('body') === toB, T, toB);
      await vb.send(xml('message', { to: va.jid, type: 'chat' }, xml('body', {}, toA)));
      await va.waitFor((s) => s.getChildText('body') === toA, T, toA);
    };

    await exchange();
    await exchange();
    const ab = streamCounts(a.srv, b.srv, ja, jb);
    const ba = streamCounts(b.srv, a.srv, jb, ja);
    assert.is(ab.transport, transport);
    assert.ok(ab.sent !== null && ab.routed !== null && ba.sent !== null && ba.routed !== null, 'streams both ways');

    stallEventLoop((IDLE_S + 2) * 1000);
    // The idle check is overdue now and runs before anything is read; the next messages go out after it.
    await exchange();

    assert.equal(
      streamCounts(a.srv, b.srv, ja, jb),
      { sent: ab.sent! + 1, routed: ab.routed! + 1, transport },
      'the stream a → b was closed during the stall and dialled again',
    );
    assert.equal(
      streamCounts(b.srv, a.srv, jb, ja),
      { sent: ba.sent! + 1, routed: ba.routed! + 1, transport },
      'the stream b → a was closed during the stall and dialled again',
    );

    // Quiet from now on: the idle timeout still closes the stream.
    const end = Date.now() + 4 * IDLE_S * 1000;
    while (streamCounts(a.srv, b.srv, ja, jb).sent !== null) {
      assert.ok(Date.now() < end, 'a quiet stream was never closed');
      await new Promise((r) => setTimeout(r, 200));
    }
  });
}

test('a peer that opened its stream just before a stall longer than the authentication deadline authenticates', async () => {
  const secret = 'b-auth-dialback-secret-for-tests-0123456789';
  const [a, b] = [
    await start('a-auth.example', 'websocket', { limits: { authTimeoutSeconds: AUTH_S } }),
    await start('b-auth.example', 'websocket', { s2s: { dialbackSecret: secret } }),
  ];
  await describe(a.infos, b.srv, 'b-auth.example'); // a checks the key with b, the authoritative server
  const peer = await rawWsS2s(`ws://127.0.0.1:${a.srv.port}/xmpp-websocket-s2s`);
  peer.send(legacyHeader('anon.b-auth.example', 'anon.a-auth.example'));
  const id = /<open [^>]*id="([^"]+)"/.exec(await peer.waitFor(/<open /))![1];
  await peer.waitFor(/<stream:features/);

  stallEventLoop((2 * AUTH_S + 2) * 1000);

  const key = new DialbackKeys(secret).generate('anon.a-auth.example', 'anon.b-auth.example', id);
  peer.send(`<db:result from='anon.b-auth.example' to='anon.a-auth.example'>${key}</db:result>`);
  const answer = await peer.waitFor(/<db:result[^>]*type=|<stream:error/, T);
  assert.match(answer, /<db:result[^>]*type="valid"/, 'the stream was timed out during the stall');
  peer.destroy();
});

test.run();
