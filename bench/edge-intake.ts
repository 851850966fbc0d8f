// A join storm that also loads web pages, against the standalone server with WebSocket in-process and with the edge
// process (websocket.edge = process), alternated in one run. N viewers connect at once over WebSocket (anonymous
// login, join a room, ask 40 occupants' vCards) while N browsers load the web chat page (three requests over one
// keep-alive connection each), from a client process of their own. Each server meets two such storms (the first
// just after its start). Prints handshake, join and page latencies, the server's CPU (and the edge's), and the
// edge's ratio to in-process. Usage: npm run bench:edge-intake -- [--viewers 300] [--rounds 2]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { startChild, percentile } from './lib/child.js';
import { cpuSeconds } from './lib/proc.js';
import { freePort } from './lib/free-port.js';
import { serverEnv, serverNodeFlags } from '../src/node-flags.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const root = fileURLToPath(new URL('..', import.meta.url));
const ROOM = 'intake@room.localhost';
const VCARDS = 40;

interface StormResult {
  /** Connection started → WebSocket handshake answered, per viewer (ms). */
  handshake: number[];
  /** Connection started → joined and every vCard answered (ms). */
  joined: number[];
  /** Page load started → its three responses read (ms). */
  pages: number[];
}

// ---- the client process: one storm against PORT, JSON on stdout ----

function viewer(port: number, i: number, n: number): Promise<{ handshake: number; joined: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let handshake = 0;
    let step = 0;
    let answered = 0;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/xmpp-websocket`, ['xmpp'], { perMessageDeflate: false });
    const open = () => ws.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="anon.localhost" version="1.0"/>');
    ws.on('open', () => {
      handshake = performance.now() - start;
      open();
    });
    ws.on('error', reject);
    ws.on('message', (d) => {
      const s = d.toString();
      if (step === 0 && s.includes('ANONYMOUS')) {
        step = 1;
        ws.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
      } else if (step === 1 && s.includes('<success')) {
        step = 2;
        open();
      } else if (step === 2 && s.includes('xmpp-bind')) {
        step = 3;
        ws.send('<iq xmlns="jabber:client" type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>');
      } else if (step === 3 && s.includes('<jid>')) {
        step = 4;
        ws.send(
          `<presence xmlns="jabber:client" to="${ROOM}/v${i}"><x xmlns="http://jabber.org/protocol/muc">` +
            '<history maxstanzas="0"/></x></presence>',
        );
      } else if (step === 4 && s.includes(`from="${ROOM}/v${i}"`) && s.includes('code="110"')) {
        step = 5;
        for (let k = 1; k <= VCARDS; k++) {
          const to = `${ROOM}/v${(i + k) % n}`;
          ws.send(`<iq xmlns="jabber:client" type="get" id="v${k}" to="${to}"><vCard xmlns="vcard-temp"/></iq>`);
        }
      } else if (step === 5) {
        answered += s.match(/<iq [^>]*id="v\d+"/g)?.length ?? 0;
        if (answered < VCARDS) return;
        step = 6;
        resolve({ handshake, joined: performance.now() - start });
        ws.terminate();
      }
    });
  });
}

function page(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let left = 3;
    const one = () =>
      http
        .get({ host: '127.0.0.1', port, path: '/webchat/room/intake', agent }, (res) => {
          res.resume();
          res.on('end', () => {
            if (--left > 0) return one();
            agent.destroy();
            resolve(performance.now() - start);
          });
        })
        .on('error', reject);
    one();
  });
}

async function clientMain(port: number, n: number): Promise<void> {
  const viewers = Array.from({ length: n }, (_, i) => viewer(port, i, n));
  const pages = Array.from({ length: n }, () => page(port));
  const [v, p] = await Promise.all([Promise.all(viewers), Promise.all(pages)]);
  const out: StormResult = { handshake: v.map((x) => x.handshake), joined: v.map((x) => x.joined), pages: p };
  process.stdout.write(JSON.stringify(out));
}

// ---- the orchestrator ----

/** The edge process of a server: its only child running the edge entry. */
function edgePid(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    return children.find((c) => c > 0 && readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('edge'));
  } catch {
    return undefined;
  }
}

function runClients(port: number, n: number): Promise<StormResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--client', String(port), String(n)],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out) as StormResult);
      else reject(new Error(`the client process exited with ${code} (did the storm time out?)`));
    });
  });
}

interface Row {
  mode: string;
  storm: string;
  handshake95: number;
  joined95: number;
  pages95: number;
  serverCpu: number;
  edgeCpu: number;
}

async function oneServer(mode: 'off' | 'process', n: number): Promise<Row[]> {
  const [port, c2sPort] = [await freePort(), await freePort()];
  const dir = await mkdtemp(join(tmpdir(), 'bench-edge-intake-'));
  const config = join(dir, 'config.json');
  await writeFile(config, JSON.stringify({ websocket: { edge: mode } }));
  const cli = join(root, 'dist', 'src', 'cli.js');
  const flags = ['--config', config, '--domain', 'localhost', '--http-port', String(port), '--data', join(dir, 'data')];
  const server = await startChild(
    process.execPath,
    [...serverNodeFlags(), cli, ...flags, '--c2s-port', String(c2sPort)],
    /listening on http/,
    30_000,
    serverEnv(),
  );
  const rows: Row[] = [];
  try {
    // The start rehearsal runs in the first idle second from 2 s after start.
    await new Promise((r) => setTimeout(r, 5000));
    for (const storm of ['just after a start', 'warm']) {
      const edge = edgePid(server.pid);
      const cpu0 = cpuSeconds(server.pid);
      const edge0 = edge ? cpuSeconds(edge) : 0;
      const r = await runClients(port, n);
      const p95 = (a: number[]) =>
        percentile(
          [...a].sort((x, y) => x - y),
          95,
        );
      rows.push({
        mode: mode === 'off' ? 'in-process' : 'edge',
        storm,
        handshake95: p95(r.handshake),
        joined95: p95(r.joined),
        pages95: p95(r.pages),
        serverCpu: cpuSeconds(server.pid) - cpu0,
        edgeCpu: edge ? cpuSeconds(edge) - edge0 : 0,
      });
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

async function main(): Promise<void> {
  const n = Math.min(arg('viewers', 300), 2000);
  const rounds = Math.min(arg('rounds', 2), 10);
  const rows: Row[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const mode of ['off', 'process'] as const) rows.push(...(await oneServer(mode, n)));
  }
  const ms = (v: number) => `${v.toFixed(0)} ms`.padStart(9);
  console.log(
    `${n} viewers joining (${VCARDS} vCards each) while ${n} browsers load the web chat page, ${rounds} round(s)`,
  );
  console.log(
    'mode        storm                handshake p95  join+vCards p95  3 page requests p95  server CPU  edge CPU',
  );
  for (const r of rows) {
    console.log(
      `${r.mode.padEnd(11)} ${r.storm.padEnd(20)} ${ms(r.handshake95).padStart(13)} ${ms(r.joined95).padStart(16)} ` +
        `${ms(r.pages95).padStart(20)} ${`${r.serverCpu.toFixed(2)} s`.padStart(11)} ${`${r.edgeCpu.toFixed(2)} s`.padStart(9)}`,
    );
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  for (const storm of ['just after a start', 'warm']) {
    const of = (mode: string, k: keyof Row) =>
      median(rows.filter((r) => r.mode === mode && r.storm === storm).map((r) => r[k] as number));
    const ratio = (k: keyof Row) => (of('edge', k) / of('in-process', k)).toFixed(2);
    console.log(
      `edge / in-process, ${storm} (medians): handshake ${ratio('handshake95')}, join ${ratio('joined95')}, ` +
        `pages ${ratio('pages95')}, main process CPU ${ratio('serverCpu')}`,
    );
  }
}

if (args[0] === '--client') await clientMain(Number(args[1]), Number(args[2]));
else await main();
