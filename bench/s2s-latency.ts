// 100 remote occupants over one S2S stream, beside 100 local occupants, in one room: groupchat delivery latency
// for each group, measured in the same run. Two of our servers in this process: room.a.example hosts the room;
// the remote occupants are anonymous WebSocket users of b.example, whose server joins them over S2S (STARTTLS +
// dialback, static routes on loopback, no DNS). The baseline is the local occupants' latency.
// With --transport websocket the two servers federate over WebSocket S2S (XEP-0468) instead, with no TCP S2S at
// all: b finds a through `s2s.websocket.routes`, a finds b through a livechat-style serverInfos folder.
// Usage: node --import tsx bench/s2s-latency.ts [--transport tcp|websocket] [--remote 100] [--local 100]
//        [--messages 200] [--interval 10]
import { WebSocket } from 'ws';
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type XmppServer } from '../src/index.js';
import { silentLogger, consoleLogger } from '../src/log.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const REMOTE = Math.min(arg('remote', 100), 2000);
const LOCAL = Math.min(arg('local', 100), 2000);
const MESSAGES = Math.min(arg('messages', 200), 5000);
const INTERVAL = arg('interval', 10);
const ROOM = 'bench@room.a.example';
const ti = args.indexOf('--transport');
const TRANSPORT = ti >= 0 ? args[ti + 1] : 'tcp';
if (TRANSPORT !== 'tcp' && TRANSPORT !== 'websocket') throw new Error('--transport is tcp or websocket');
const domainsOf = (d: string) => [d, `anon.${d}`, `room.${d}`];

async function freePort(base: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const p = base + Math.floor(Math.random() * 100);
    const ok = await new Promise<boolean>((r) => {
      const s = netServer();
      s.once('error', () => r(false));
      s.listen(p, '127.0.0.1', () => s.close(() => r(true)));
    });
    if (ok) return p;
  }
  throw new Error('no free port in 18600-18699');
}

async function start(
  domain: string,
  s2sPort: number,
  peer: string,
  peerPort: number,
  dataDir: string,
): Promise<XmppServer> {
  const routes = Object.fromEntries([peer, `anon.${peer}`, `room.${peer}`].map((d) => [d, `127.0.0.1:${peerPort}`]));
  const s = createServer(
    {
      domain,
      dataDir,
      logLevel: 'error',
      tcp: { enabled: false },
      http: { host: '127.0.0.1', port: 0 },
      s2s: { enabled: true, interfaces: ['127.0.0.1'], port: s2sPort, staticRoutes: routes },
      muc: { creation: 'anyone' },
    },
    { logger: process.env.BENCH_LOG ? consoleLogger('debug', domain) : silentLogger },
  );
  await s.start();
  return s;
}

/** WebSocket S2S: a serves its endpoint and reads b's URL from serverInfos; b has a route to a's URL. */
async function startWs(dataDirA: string, dataDirB: string, infos: string): Promise<[XmppServer, XmppServer]> {
  const log = (d: string) => (process.env.BENCH_LOG ? consoleLogger('debug', d) : silentLogger);
  const base = {
    logLevel: 'error',
    tcp: { enabled: false },
    http: { host: '127.0.0.1', port: 0 },
    muc: { creation: 'anyone' },
  };
  const a = createServer(
    { ...base, domain: 'a.example', dataDir: dataDirA, s2s: { websocket: { enabled: true, serverInfosDir: infos } } },
    { logger: log('a.example') },
  );
  await a.start();
  const urlA = `ws://127.0.0.1:${a.httpAddress()!.port}/xmpp-websocket-s2s`;
  const b = createServer(
    {
      ...base,
      domain: 'b.example',
      dataDir: dataDirB,
      s2s: { websocket: { enabled: true, routes: Object.fromEntries(domainsOf('a.example').map((d) => [d, urlA])) } },
    },
    { logger: log('b.example') },
  );
  await b.start();
  for (const d of domainsOf('b.example')) {
    await mkdir(join(infos, d), { recursive: true });
    await writeFile(
      join(infos, d, 'ws-s2s'),
      JSON.stringify({ host: 'b.example', url: `ws://127.0.0.1:${b.httpAddress()!.port}/xmpp-websocket-s2s` }),
    );
  }
  return [a, b];
}

interface Occupant {
  ws: WebSocket;
  latencies: number[];
  send(x: string): void;
}

/** A minimal RFC 7395 client: anonymous login, bind, join the room; records `t:<ms>` bodies' latency. */
function occupant(url: string, host: string, nick: string): Promise<Occupant> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['xmpp'], { perMessageDeflate: false });
    const open = `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${host}" version="1.0"/>`;
    const steps: Array<[string, RegExp]> = [
      [open, /<\/stream:features>/],
      ['<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>', /<success/],
      [open, /<\/stream:features>/],
      ['<iq xmlns="jabber:client" type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>', /<jid>/],
      [
        `<presence xmlns="jabber:client" to="${ROOM}/${nick}"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`,
        /status code=["']110["']/,
      ],
    ];
    let i = 0;
    const o: Occupant = { ws, latencies: [], send: (x) => ws.send(x) };
    const t = setTimeout(() => reject(new Error(`${nick}: join timed out at step ${i}`)), 30_000);
    ws.on('open', () => ws.send(steps[0][0]));
    ws.on('message', (d) => {
      const s = d.toString();
      if (i < steps.length) {
        if (!steps[i][1].test(s)) return;
        if (++i < steps.length) ws.send(steps[i][0]);
        else {
          clearTimeout(t);
          resolve(o);
        }
        return;
      }
      const m = /<body>t:([\d.]+)<\/body>/.exec(s);
      if (m) o.latencies.push(performance.now() - Number(m[1]));
    });
    ws.on('error', reject);
  });
}

function stats(all: number[]) {
  const s = [...all].sort((x, y) => x - y);
  const p = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { n: s.length, p50: p(0.5), p95: p(0.95), p99: p(0.99), max: s[s.length - 1] ?? NaN };
}

async function main() {
  const dirA = await mkdtemp(join(tmpdir(), 'bench-s2s-a-'));
  const dirB = await mkdtemp(join(tmpdir(), 'bench-s2s-b-'));
  let a: XmppServer;
  let b: XmppServer;
  if (TRANSPORT === 'websocket') {
    [a, b] = await startWs(dirA, dirB, join(dirA, 'serverInfos'));
  } else {
    const portA = await freePort(18600);
    let portB = await freePort(18600);
    while (portB === portA) portB = await freePort(18600);
    a = await start('a.example', portA, 'b.example', portB, dirA);
    b = await start('b.example', portB, 'a.example', portA, dirB);
  }
  const urlA = `ws://127.0.0.1:${a.httpAddress()!.port}/xmpp-websocket`;
  const urlB = `ws://127.0.0.1:${b.httpAddress()!.port}/xmpp-websocket`;
  const all: Occupant[] = [];
  try {
    const sender = await occupant(urlA, 'anon.a.example', 'sender');
    all.push(sender);
    const local: Occupant[] = [];
    const remote: Occupant[] = [];
    const t0 = performance.now();
    for (let i = 0; i < LOCAL; i++) local.push(await occupant(urlA, 'anon.a.example', `local${i}`));
    const tLocal = performance.now() - t0;
    const t1 = performance.now();
    for (let i = 0; i < REMOTE; i += 20) {
      remote.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(20, REMOTE - i) }, (_, k) =>
            occupant(urlB, 'anon.b.example', `remote${i + k}`),
          ),
        )),
      );
    }
    const tRemote = performance.now() - t1;
    all.push(...local, ...remote);
    const st = a.s2s!.status();
    const outs = st.outgoing.filter((o) => o.remote === 'anon.b.example');
    console.log(
      `joined ${LOCAL} local occupants in ${(tLocal / 1000).toFixed(2)} s, ${REMOTE} remote in ${(tRemote / 1000).toFixed(2)} s; ` +
        `room → anon.b.example streams: ${outs.length} (${outs.map((o) => `${o.transport} ${o.auth}${o.secure ? '+TLS' : ''}`).join(', ')})`,
    );

    for (let m = 0; m < MESSAGES; m++) {
      sender.send(
        `<message xmlns="jabber:client" to="${ROOM}" type="groupchat"><body>t:${performance.now()}</body></message>`,
      );
      await new Promise((r) => setTimeout(r, INTERVAL));
    }
    const until = Date.now() + 20_000;
    const expected = MESSAGES * (LOCAL + REMOTE);
    while (Date.now() < until && [...local, ...remote].reduce((n, o) => n + o.latencies.length, 0) < expected)
      await new Promise((r) => setTimeout(r, 50));

    const ls = stats(local.flatMap((o) => o.latencies));
    const rs = stats(remote.flatMap((o) => o.latencies));
    const f = (x: number) => x.toFixed(2).padStart(8);
    console.log(
      `${MESSAGES} groupchat messages, one every ${INTERVAL} ms, to ${LOCAL} local + ${REMOTE} remote occupants`,
    );
    console.log(`                      delivered     p50 ms   p95 ms   p99 ms   max ms`);
    console.log(
      `local  (WebSocket)    ${String(ls.n).padStart(9)} ${f(ls.p50)} ${f(ls.p95)} ${f(ls.p99)} ${f(ls.max)}`,
    );
    console.log(
      `${`remote (S2S ${TRANSPORT === 'tcp' ? 'TCP' : 'WS'}, 1)`.padEnd(22)}${String(rs.n).padStart(9)} ${f(rs.p50)} ${f(rs.p95)} ${f(rs.p99)} ${f(rs.max)}`,
    );
    console.log(`ratio remote/local: p50 ×${(rs.p50 / ls.p50).toFixed(2)}, p95 ×${(rs.p95 / ls.p95).toFixed(2)}`);
    if (ls.n < MESSAGES * LOCAL || rs.n < MESSAGES * REMOTE)
      console.log(`MISSING deliveries: local ${MESSAGES * LOCAL - ls.n}, remote ${MESSAGES * REMOTE - rs.n}`);
  } finally {
    for (const o of all) o.ws.terminate();
    await a.stop();
    await b.stop();
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
