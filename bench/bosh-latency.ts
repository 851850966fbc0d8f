// BOSH beside WebSocket, same server process, same run: N anonymous users (SASL ANONYMOUS, bind) join one MUC room
// per transport, one of them sends M groupchat messages, and every occupant records how long each message took
// from the sender's send call to its own receipt (p50/p99 over all N×M deliveries), with CPU per delivery on the
// server and on the client side.
//
//   node --import tsx bench/bosh-latency.ts [--users 400] [--messages 200] [--interval 50] [--rounds 2] [--concurrency 50]
//
// The defaults are the live evening's chat (20 msg/s to 400 viewers) for 10 s: long enough for the write-coalescing
// window, which paces both transports in a busy room, to show.
//
// The clients are string-level (no DOM, no XML parser) so that the harness costs little next to the server; both
// transports use the same harness, loopback only. Every loop is bounded in count and time.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { startChild, percentile } from './lib/child.js';
import { cpuSeconds, rssBytes } from './lib/proc.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const USERS = Math.max(2, Math.min(arg('users', 400), 5000));
const MESSAGES = Math.max(1, Math.min(arg('messages', 200), 1000));
const INTERVAL_MS = Math.max(10, arg('interval', 50));
const ROUNDS = Math.max(1, Math.min(arg('rounds', 2), 10));
const CONCURRENCY = Math.max(1, arg('concurrency', 50));
const PHASE_TIMEOUT_MS = 120_000;
const DELIVERY_TIMEOUT_MS = 30_000;
const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = import.meta.resolve('tsx');

const HTTPBIND = 'http://jabber.org/protocol/httpbind';
const ANON = 'anon.localhost';
const MUC = 'room.localhost';
const STAMP = /<body>t=([\d.]+);i=(\d+)<\/body>/g;

interface User {
  jid: string;
  /** Sends serialized stanzas without waiting for any answer. */
  send(xml: string): void;
  /** Incoming payload text (one or several stanzas). */
  onData: (xml: string) => void;
  close(): Promise<void>;
}

// ---- WebSocket client (RFC 7395) --------------------------------------------------------------------------

const OPEN = `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${ANON}" version="1.0"/>`;

function wsUser(url: string): Promise<User> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['xmpp'], { perMessageDeflate: false });
    const steps = [
      { send: OPEN, until: /<\/stream:features>/ },
      { send: '<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>', until: /<success/ },
      { send: OPEN, until: /<\/stream:features>/ },
      {
        send: '<iq xmlns="jabber:client" type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>',
        until: /<jid>([^<]+)<\/jid>/,
      },
    ];
    let i = 0;
    let buf = '';
    const user: User = {
      jid: '',
      onData: () => undefined,
      send: (xml) => ws.send(xml),
      close: async () => {
        ws.terminate();
      },
    };
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('websocket login timed out'));
    }, 30_000);
    ws.on('open', () => ws.send(steps[0].send));
    ws.on('message', (d) => {
      const text = d.toString();
      if (i >= steps.length) {
        user.onData(text);
        return;
      }
      buf += text;
      const m = steps[i].until.exec(buf);
      if (!m) return;
      buf = '';
      if (++i === steps.length) {
        clearTimeout(timer);
        user.jid = m[1];
        resolve(user);
      } else {
        ws.send(steps[i].send);
      }
    });
    ws.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

// ---- BOSH client (XEP-0124/0206) --------------------------------------------------------------------------

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function postBody(url: URL, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'text/xml; charset=utf-8', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      },
    );
    req.setTimeout(90_000, () => req.destroy(new Error('BOSH request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** The payloads of a response body (everything between the wrapper's tags). */
function inner(body: string): string {
  const start = body.indexOf('>');
  if (start < 0 || body[start - 1] === '/') return '';
  const end = body.lastIndexOf('</body>');
  return end > start ? body.slice(start + 1, end) : '';
}

async function boshUser(url: URL): Promise<User> {
  let rid = 1 + Math.floor(Math.random() * 1e12);
  let sid = '';
  let outstanding = 0;
  let running = true;
  const wrap = (payload: string, extra = '') =>
    `<body xmlns="${HTTPBIND}" rid="${rid++}" sid="${sid}"${extra}>${payload}</body>`;
  const fire = (body: string) => {
    void request(body).catch(() => {
      running = false;
    });
  };
  const user: User = {
    jid: '',
    onData: () => undefined,
    // Like a WebSocket send, it does not wait: with hold=1 the request may stay at the server as the held one.
    send: (xml) => fire(wrap(xml)),
    close: async () => {
      running = false;
      await postBody(url, wrap('', ' type="terminate"')).catch(() => undefined);
    },
  };
  // Every response may carry stanzas; whenever no request is left at the server, a new empty one goes out, so the
  // server always holds one to answer with.
  async function request(body: string): Promise<void> {
    outstanding++;
    let text: string;
    try {
      text = await postBody(url, body);
    } finally {
      outstanding--;
    }
    if (text.includes('type="terminate"')) {
      if (running) console.error(`  BOSH session of ${user.jid} terminated: ${text.slice(0, 200)}`);
      running = false;
    }
    const payload = inner(text);
    if (payload) user.onData(payload);
    if (running && outstanding === 0) fire(wrap(''));
  }

  const created = await postBody(
    url,
    `<body xmlns="${HTTPBIND}" xmlns:xmpp="urn:xmpp:xbosh" rid="${rid++}" to="${ANON}" wait="60" hold="1" ver="1.6" xmpp:version="1.0" xml:lang="en"/>`,
  );
  sid = /\ssid="([^"]+)"/.exec(created)?.[1] ?? '';
  if (!sid) throw new Error(`no BOSH session: ${created}`);
  if (!created.includes('ANONYMOUS')) await postBody(url, wrap('')); // features may come in a second response
  const auth = await postBody(url, wrap('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>'));
  if (!auth.includes('<success')) throw new Error(`no SASL success: ${auth}`);
  await postBody(url, wrap('', ` to="${ANON}" xmlns:xmpp="urn:xmpp:xbosh" xmpp:restart="true"`));
  const bind = await postBody(
    url,
    wrap('<iq xmlns="jabber:client" type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>'),
  );
  user.jid = /<jid>([^<]+)<\/jid>/.exec(bind)?.[1] ?? '';
  if (!user.jid) throw new Error(`no bind result: ${bind}`);
  fire(wrap(''));
  return user;
}

// ---- the scenario -----------------------------------------------------------------------------------------

interface Result {
  label: string;
  users: number;
  loginJoinSeconds: number;
  expected: number;
  delivered: number;
  p50: number;
  p99: number;
  max: number;
  serverCpuMsPerDelivery: number;
  harnessCpuMsPerDelivery: number;
  serverRssMiB: number;
}

async function inParallel<T>(count: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const deadline = Date.now() + PHASE_TIMEOUT_MS;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
      while (next < count) {
        if (Date.now() > deadline) throw new Error('phase timed out');
        const i = next++;
        out[i] = await make(i);
      }
    }),
  );
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scenario(
  label: string,
  connect: () => Promise<User>,
  pid: number,
  users: number,
  messages: number,
): Promise<Result> {
  const room = `${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${Date.now().toString(36)}@${MUC}`;
  const t0 = performance.now();
  const latencies: number[] = [];
  const joined = new Set<number>();

  const list = await inParallel(users, async (i) => {
    const u = await connect();
    u.onData = (xml) => {
      if (!joined.has(i) && xml.includes('code="110"')) joined.add(i);
      STAMP.lastIndex = 0;
      for (let m = STAMP.exec(xml); m; m = STAMP.exec(xml)) latencies.push(performance.now() - Number(m[1]));
    };
    u.send(
      `<presence xmlns="jabber:client" to="${room}/u${i}"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`,
    );
    return u;
  });
  const joinDeadline = Date.now() + PHASE_TIMEOUT_MS;
  while (joined.size < users && Date.now() < joinDeadline) await sleep(20);
  const loginJoinSeconds = (performance.now() - t0) / 1000;
  if (joined.size < users) console.error(`  ${label}: only ${joined.size}/${users} joined`);
  // Let the join storm's presence broadcasts drain before measuring messages.
  await sleep(1000);

  const cpu0 = cpuSeconds(pid);
  const own0 = process.cpuUsage();
  const sender = list[0];
  for (let k = 0; k < messages; k++) {
    sender.send(
      `<message xmlns="jabber:client" to="${room}" type="groupchat" id="m${k}"><body>t=${performance.now().toFixed(3)};i=${k}</body></message>`,
    );
    await sleep(INTERVAL_MS);
  }
  const expected = users * messages;
  const deliveryDeadline = Date.now() + DELIVERY_TIMEOUT_MS;
  while (latencies.length < expected && Date.now() < deliveryDeadline) await sleep(50);
  const cpuMs = (cpuSeconds(pid) - cpu0) * 1000;
  const own = process.cpuUsage(own0);
  const ownMs = (own.user + own.system) / 1000;
  const rss = rssBytes(pid);

  await Promise.all(list.map((u) => u.close()));
  latencies.sort((a, b) => a - b);
  return {
    label,
    users,
    loginJoinSeconds,
    expected,
    delivered: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? NaN,
    serverCpuMsPerDelivery: cpuMs / Math.max(1, latencies.length),
    harnessCpuMsPerDelivery: ownMs / Math.max(1, latencies.length),
    serverRssMiB: rss / 1024 / 1024,
  };
}

const load0 = loadavg();
const dataDir = await mkdtemp(join(tmpdir(), 'bench-bosh-'));
const server = await startChild(
  process.execPath,
  ['--import', tsx, join(root, 'src/cli.ts'), '--http-port', '0', '--data', dataDir, '--log-level', 'warn'],
  /ws:\/\/127\.0\.0\.1:(\d+)\/xmpp-websocket/,
);
try {
  const port = server.match[1];
  const wsUrl = `ws://127.0.0.1:${port}/xmpp-websocket`;
  const boshUrl = new URL(`http://127.0.0.1:${port}/http-bind`);
  // Warm-up: JIT and lazy allocations are not billed to either measured run.
  await scenario('warmup-ws', () => wsUser(wsUrl), server.pid, 20, 5);
  await scenario('warmup-bosh', () => boshUser(boshUrl), server.pid, 20, 5);

  // Rounds alternate the order, so that a change in machine load does not favour one transport.
  const rows: Result[] = [];
  const ratios: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const runWs = () => scenario(`WebSocket #${round}`, () => wsUser(wsUrl), server.pid, USERS, MESSAGES);
    const runBosh = () => scenario(`BOSH #${round}`, () => boshUser(boshUrl), server.pid, USERS, MESSAGES);
    let ws: Result;
    let bosh: Result;
    if (round % 2 === 1) {
      ws = await runWs();
      bosh = await runBosh();
    } else {
      bosh = await runBosh();
      ws = await runWs();
    }
    rows.push(ws, bosh);
    ratios.push(
      `round ${round}: p50 ${(bosh.p50 / ws.p50).toFixed(2)}x, p99 ${(bosh.p99 / ws.p99).toFixed(2)}x, server CPU per delivery ${(bosh.serverCpuMsPerDelivery / Math.max(1e-6, ws.serverCpuMsPerDelivery)).toFixed(2)}x`,
    );
  }

  console.log(
    `\n${USERS} anonymous users in one MUC room per transport, ${MESSAGES} groupchat messages every ${INTERVAL_MS} ms from one occupant, loopback, ${new Date().toISOString()}`,
  );
  console.log(`machine: ${cpus().length} CPUs, load average at start ${load0.map((x) => x.toFixed(1)).join(' ')}`);
  console.log(
    '| transport | delivered / expected | p50 ms | p99 ms | max ms | login+join s | server CPU µs/delivery | client-side CPU µs/delivery | server RSS MiB |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.label} | ${r.delivered} / ${r.expected} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(1)} | ${r.loginJoinSeconds.toFixed(2)} | ${(r.serverCpuMsPerDelivery * 1000).toFixed(1)} | ${(r.harnessCpuMsPerDelivery * 1000).toFixed(1)} | ${r.serverRssMiB.toFixed(0)} |`,
    );
  }
  for (const r of ratios) console.log(`ratio BOSH/WebSocket, ${r}`);
} finally {
  agent.destroy();
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}
