// Connects N anonymous WebSocket clients to this server (full RFC 7395 open, SASL ANONYMOUS, restart, bind) and
// prints connections/s and server memory per connection, beside a bare `ws` echo server doing one round trip per
// connection, measured in the same run. Usage: npm run bench:connect -- [--clients 1000] [--concurrency 100]
import { WebSocket } from 'ws';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, percentile } from './lib/child.js';
import { cpuSeconds, rssBytes } from './lib/proc.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const N = Math.min(arg('clients', 1000), 20_000);
const CONCURRENCY = arg('concurrency', 100);
const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = import.meta.resolve('tsx');

type Step = { send: string; until: RegExp };
const OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="anon.localhost" version="1.0"/>';
const XMPP_LOGIN: Step[] = [
  { send: OPEN, until: /<\/stream:features>/ },
  { send: '<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>', until: /<success/ },
  { send: OPEN, until: /<\/stream:features>/ },
  {
    send: '<iq xmlns="jabber:client" type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>',
    until: /<jid>/,
  },
];
const ECHO: Step[] = [{ send: OPEN, until: /<open/ }];

/** One client: connects, runs the steps, stays open. Resolves with its own latency in ms. */
function connectOne(url: string, steps: Step[], sockets: WebSocket[]): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['xmpp'], { perMessageDeflate: false });
    sockets.push(ws);
    let i = 0;
    let buf = '';
    ws.on('open', () => ws.send(steps[0].send));
    ws.on('message', (d) => {
      buf += d.toString();
      if (!steps[i].until.test(buf)) return;
      buf = '';
      if (++i === steps.length) resolve(performance.now() - t0);
      else ws.send(steps[i].send);
    });
    ws.on('error', reject);
  });
}

async function run(label: string, url: string, pid: number, steps: Step[]) {
  const sockets: WebSocket[] = [];
  const rss0 = rssBytes(pid);
  const cpu0 = cpuSeconds(pid);
  const latencies: number[] = [];
  const t0 = performance.now();
  let next = 0;
  const deadline = Date.now() + 120_000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N && Date.now() < deadline) {
        next++;
        latencies.push(await connectOne(url, steps, sockets));
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 500));
  const rss1 = rssBytes(pid);
  const cpu = cpuSeconds(pid) - cpu0;
  for (const s of sockets) s.terminate();
  latencies.sort((a, b) => a - b);
  return {
    label,
    connected: latencies.length,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    memPerConn: (rss1 - rss0) / latencies.length,
    cpuPerConnMs: (cpu * 1000) / latencies.length,
  };
}

const dataDir = await mkdtemp(join(tmpdir(), 'bench-connect-'));
const ours = await startChild(
  process.execPath,
  ['--import', tsx, join(root, 'src/cli.ts'), '--http-port', '0', '--data', dataDir, '--log-level', 'warn'],
  /ws:\/\/127\.0\.0\.1:\d+\/xmpp-websocket/,
);
const echo = await startChild(
  process.execPath,
  ['--import', tsx, join(root, 'bench/lib/echo-server.ts')],
  /ws:\/\/127\.0\.0\.1:\d+\//,
);
try {
  // Warm both up so JIT and lazy allocations are not billed to the first run.
  await run('warmup', ours.match[0], ours.pid, XMPP_LOGIN);
  await run('warmup', echo.match[0], echo.pid, ECHO);
  const a = await run('this server: anonymous login + bind', ours.match[0], ours.pid, XMPP_LOGIN);
  const b = await run('bare ws echo (1 round trip)', echo.match[0], echo.pid, ECHO);
  console.log(`\n${N} clients, ${CONCURRENCY} connecting at a time, loopback, ${new Date().toISOString()}`);
  console.log('| target | connected | conn/s | p50 ms | p99 ms | server KiB/conn | server CPU ms/conn |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of [a, b]) {
    console.log(
      `| ${r.label} | ${r.connected} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${(r.memPerConn / 1024).toFixed(1)} | ${r.cpuPerConnMs.toFixed(2)} |`,
    );
  }
  console.log(
    `ratio ours/baseline: conn/s ${(a.perSecond / b.perSecond).toFixed(2)}, memory/conn ${(a.memPerConn / Math.max(1, b.memPerConn)).toFixed(1)}x, CPU/conn ${(a.cpuPerConnMs / Math.max(0.001, b.cpuPerConnMs)).toFixed(1)}x (ours does 4 round trips and SASL per connection, the baseline 1)`,
  );
} finally {
  await ours.stop();
  await echo.stop();
  await rm(dataDir, { recursive: true, force: true });
}
