// Mutation fuzzing over WebSocket, BOSH and TCP (+STARTTLS), seeded and bounded in count and time. Every run
// replays the corpus of past findings, then one case per malformed class per transport (exact stream error and
// close), then random mutations (any answer but internal-server-error, never a hang). Throughout: a bystander in a
// room keeps receiving messages; at the end RSS growth and open file descriptors are bounded.
// FUZZ_SEED, FUZZ_CASES (random cases per transport) and FUZZ_BUDGET_MS override the defaults.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { rng, mutate, classCases, SEEDS } from './mutate.js';
import { wsTarget, tcpTarget, boshTarget, type Target, type Transport, type Stage, type Outcome } from './drivers.js';

process.emitWarning = () => {};

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const CASES = Number(process.env.FUZZ_CASES ?? 150);
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 35_000);
const MAX = 10_000;
const ROOM = 'fuzzroom@room.localhost';

let srv: TestServer;
let bystander: TestClient;
let speaker: TestClient;
let peer: TestClient;
let fds0 = 0;
let rss0 = 0;
const fdCount = () => readdirSync('/proc/self/fd').length;

test.before(async () => {
  srv = await startTestServer({ limits: { maxStanzaSize: MAX }, tcp: { enabled: true, port: 0 } });
  bystander = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  speaker = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  peer = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  for (const [c, nick] of [
    [bystander, 'bystander'],
    [speaker, 'speaker'],
  ] as const) {
    await c.send(xml('presence', { to: `${ROOM}/${nick}` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
    await c.waitFor((s) => s.is('presence') && s.attrs.from === `${ROOM}/${nick}`, 10_000, `${nick} joined`);
  }
  await bystanderStillServed();
  fds0 = fdCount();
  rss0 = process.memoryUsage().rss;
  console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays this run)`);
});
test.after(async () => {
  await Promise.all([bystander, speaker, peer].map((c) => c?.stop()));
  await srv?.stop();
});

let ticks = 0;
async function bystanderStillServed(): Promise<void> {
  const body = `tick ${++ticks}`;
  await speaker.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, body)));
  await bystander.waitFor(
    (s) => s.attrs.type === 'groupchat' && s.getChildText('body') === body,
    10_000,
    `bystander got ${body}`,
  );
}

async function target(transport: Transport, stage: Stage): Promise<Target> {
  if (transport === 'ws') return wsTarget(srv.wsUrl, stage);
  if (transport === 'tcp') return tcpTarget(srv.server.tcpAddresses()!.starttls[0].port, stage, MAX);
  return boshTarget(`${srv.httpUrl}/http-bind`);
}

const fill = (s: string) => s.replace(/ROOM/g, ROOM).replace(/PEER/g, peer.jid);

async function runCase(transport: Transport, stage: Stage, input: Buffer): Promise<Outcome> {
  const t = await target(transport, stage);
  try {
    return await t.run(input);
  } finally {
    t.dispose();
  }
}

function describe(o: Outcome): string {
  return o.kind === 'error'
    ? `${o.condition}${o.closed ? ' + close' : ' WITHOUT close'}`
    : o.kind === 'hang'
      ? `hang (${o.seen})`
      : 'alive';
}

test('the corpus of past findings: each gets its error condition and the close', async () => {
  const corpus = JSON.parse(readFileSync(new URL('./corpus.json', import.meta.url), 'utf8')) as {
    cases: Array<{
      name: string;
      transport: Transport;
      stage: Stage;
      parts: Array<string | { hex: string } | { repeat: string; count: number }>;
      expect: string;
    }>;
  };
  assert.ok(corpus.cases.length >= 16, 'the corpus is there');
  const failures: string[] = [];
  for (const c of corpus.cases) {
    const input = Buffer.concat(
      c.parts.map((p) =>
        typeof p === 'string'
          ? Buffer.from(fill(p))
          : 'hex' in p
            ? Buffer.from(p.hex, 'hex')
            : Buffer.from(p.repeat.repeat(p.count)),
      ),
    );
    const o = await runCase(c.transport, c.stage, input);
    if (o.kind !== 'error' || o.condition !== c.expect || !o.closed)
      failures.push(`${c.name}: expected ${c.expect} + close, got ${describe(o)}`);
  }
  assert.equal(failures, []);
  await bystanderStillServed();
});

test('each malformed class on each transport gets its exact condition and the close', async () => {
  const r = rng(SEED);
  const failures: string[] = [];
  let n = 0;
  for (const transport of ['ws', 'tcp', 'bosh'] as const) {
    const stanza = fill(SEEDS[Math.floor(r() * SEEDS.length)]);
    for (const k of classCases(r, stanza, MAX)) {
      const o = await runCase(transport, 'login', k.bytes);
      const want = transport === 'bosh' ? k.boshCondition : k.condition;
      n++;
      if (o.kind !== 'error' || o.condition !== want || !o.closed)
        failures.push(
          `${transport} ${k.kind}: expected ${want} + close, got ${describe(o)}; input ${JSON.stringify(k.bytes.toString('latin1').slice(0, 200))}`,
        );
    }
    await bystanderStillServed();
  }
  assert.ok(n >= 21);
  assert.equal(failures, []);
});

test('random mutations: never a hang or an internal error; the bystander keeps receiving', async () => {
  const r = rng(SEED + 1);
  const started = Date.now();
  const failures: string[] = [];
  const tally: Record<string, number> = {};
  let n = 0;
  for (let i = 0; i < CASES * 3 && Date.now() - started < BUDGET_MS; i++) {
    const transport = (['ws', 'tcp', 'bosh'] as const)[i % 3];
    const input = mutate(r, fill(SEEDS[Math.floor(r() * SEEDS.length)]));
    const o = await runCase(transport, 'login', input);
    n++;
    const key = `${transport}:${o.kind === 'error' ? o.condition : o.kind}`;
    tally[key] = (tally[key] ?? 0) + 1;
    const bad = o.kind === 'hang' || (o.kind === 'error' && (!o.closed || o.condition === 'internal-server-error'));
    if (bad)
      failures.push(
        `case ${i} ${transport}: ${describe(o)}; input ${JSON.stringify(input.toString('latin1').slice(0, 300))}`,
      );
    if (i % 15 === 14) await bystanderStillServed();
  }
  console.log(`${n} random cases in ${Date.now() - started} ms:`, JSON.stringify(tally));
  assert.ok(n >= 30, `only ${n} random cases ran in the time budget`);
  assert.equal(failures, []);
  await bystanderStillServed();
});

test('afterwards: the server accepts new users, memory growth is bounded, no file descriptor leaked', async () => {
  const fresh = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  await fresh.stop();
  await bystanderStillServed();
  // Closed sockets (ours and the server's ends, HTTP keep-alive) take a moment to go.
  let fds = fdCount();
  for (let i = 0; i < 100 && fds > fds0 + 4; i++) {
    await new Promise((res) => setTimeout(res, 200));
    fds = fdCount();
  }
  assert.ok(fds <= fds0 + 4, `open fds ${fds0} before, ${fds} after`);
  const grown = (process.memoryUsage().rss - rss0) / 1048576;
  console.log(`fds ${fds0} -> ${fds}, RSS +${grown.toFixed(1)} MB`);
  assert.ok(grown < 150, `RSS grew ${grown.toFixed(1)} MB`);
});

test.run();
