// c2s over TCP (with STARTTLS) beside WebSocket, same server, same run: connections/s (full login) and message
// round-trip latency (each client sends chat messages to itself through the router).
// Usage: node --import tsx bench/tcp-vs-ws.ts [--clients 1000] [--messages 5]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, percentile } from './lib/child.js';
import { cpuSeconds } from './lib/proc.js';
import { tcpClient, wsClient, type RawClient } from './lib/raw-clients.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const N = Math.min(arg('clients', 1000), 10_000);
const MESSAGES = Math.min(arg('messages', 5), 100);
const CONCURRENCY = 100;
const root = fileURLToPath(new URL('..', import.meta.url));

async function connectAll(make: () => Promise<RawClient>) {
  const clients: RawClient[] = [];
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < N) clients.push(await make());
    }),
  );
  return { clients, perSecond: clients.length / ((performance.now() - t0) / 1000) };
}

async function roundTrips(clients: RawClient[]): Promise<number[]> {
  const lat: number[] = [];
  await Promise.all(
    clients.map(
      (c) =>
        new Promise<void>((done) => {
          let i = 0;
          let sentAt = 0;
          const sendOne = () => {
            sentAt = performance.now();
            c.send(
              `<message xmlns="jabber:client" to="${c.jid}" type="chat" id="m${i}"><body>ping ${i}</body></message>`,
            );
          };
          c.onData((s) => {
            if (!s.includes(`id="m${i}"`)) return;
            lat.push(performance.now() - sentAt);
            if (++i >= MESSAGES) done();
            else sendOne();
          });
          sendOne();
        }),
    ),
  );
  return lat.sort((a, b) => a - b);
}

const dataDir = await mkdtemp(join(tmpdir(), 'bench-tcp-'));
const server = await startChild(
  process.execPath,
  [
    '--import',
    import.meta.resolve('tsx'),
    join(root, 'src/cli.ts'),
    '--http-port',
    '0',
    '--c2s-port',
    '0',
    '--data',
    dataDir,
    '--log-level',
    'warn',
  ],
  /ws:\/\/127\.0\.0\.1:(\d+)\/xmpp-websocket, TCP: 127\.0\.0\.1:(\d+)/,
);
const [, wsPort, tcpPort] = server.match;
try {
  const rows = [];
  for (const [label, make] of [
    ['WebSocket', () => wsClient(`ws://127.0.0.1:${wsPort}/xmpp-websocket`, 'anon.localhost')],
    ['TCP + STARTTLS', () => tcpClient(Number(tcpPort), 'anon.localhost')],
  ] as const) {
    const cpu0 = cpuSeconds(server.pid);
    const { clients, perSecond } = await connectAll(make);
    const cpuLogin = cpuSeconds(server.pid) - cpu0;
    const lat = await roundTrips(clients);
    for (const c of clients) c.close();
    rows.push({
      label,
      connected: clients.length,
      perSecond,
      cpuLogin,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      n: lat.length,
    });
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log(
    `\n${N} clients per transport, ${MESSAGES} self-addressed messages each, all at once; ${new Date().toISOString()}`,
  );
  console.log('| transport | connected | logins/s | server CPU ms/login | msg RTT p50 ms | msg RTT p99 ms |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows)
    console.log(
      `| ${r.label} | ${r.connected} | ${r.perSecond.toFixed(0)} | ${((r.cpuLogin * 1000) / r.connected).toFixed(2)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |`,
    );
  console.log(
    `ratio TCP/WebSocket: logins/s ${(rows[1].perSecond / rows[0].perSecond).toFixed(2)}, p50 RTT ${(rows[1].p50 / rows[0].p50).toFixed(2)}`,
  );
} finally {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}
