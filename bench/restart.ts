// Restart after kill -9: how long until a new client gets stream features again, on the same data folder.
//   npm run build && node --import tsx bench/restart.ts [--rooms 200] [--messages 5000] [--rounds 3] [--keep] [--data DIR] [--prosody]
// Builds a data folder with `rooms` persistent rooms of `messages` archived messages each, runs the server as a
// child process, kills it with SIGKILL and times the restart until a WebSocket <open/> is answered with
// <stream:features>. Baseline in the same run: the same restart on an empty data folder (node start-up, config,
// certificates: what any restart costs). The difference is what the archive costs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { createServer } from '../src/index.js';
import { silentLogger } from '../src/log.js';
import { serverEnv, serverNodeFlags } from '../src/node-flags.js';
import { FileArchive } from '../src/storage/archive.js';
import { validateArchive } from '../src/storage/config.js';
import { freePort } from './lib/free-port.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}
const ROOMS = Number(arg('rooms', '200'));
const MESSAGES = Number(arg('messages', '5000'));
const ROUNDS = Number(arg('rounds', '3'));
const KEEP = process.argv.includes('--keep');
/** A data folder kept by an earlier run (--keep), to compare two builds on the same archive. */
const REUSE = arg('data', '');
const root = new URL('..', import.meta.url).pathname;

async function populate(dataDir: string): Promise<void> {
  // Rooms through the server (their persistence files), messages straight into the archive (fast).
  const srv = createServer(
    { domain: 'localhost', dataDir, http: { host: '127.0.0.1', port: 0 }, tcp: { enabled: false }, logLevel: 'error' },
    { logger: silentLogger },
  );
  await srv.start();
  for (let r = 0; r < ROOMS; r++) srv.muc.createRoom(`live${r}`, { config: { persistent: true } });
  await srv.stop();
  const archive = new FileArchive(dataDir, validateArchive(undefined, 'archive'), { log: () => {} });
  await archive.init();
  const t0 = Date.UTC(2030, 0, 1);
  for (let r = 0; r < ROOMS; r++) {
    const jid = `live${r}@room.localhost`;
    const ra = await archive.open(jid);
    for (let i = 0; i < MESSAGES; i++) {
      const nick = `viewer${i % 97}`;
      ra.append({
        ts: t0 + i * 1000,
        nick,
        occupantId: `occ${i % 97}`,
        realJid: `${nick}@anon.localhost/x`,
        xml: `<message xmlns="jabber:client" from="${jid}/${nick}" type="groupchat" id="m${i}"><body>message ${i} in a live chat, hello everyone</body></message>`,
      });
      if (i % 1000 === 999) await ra.flush();
    }
    await archive.flush();
    await archive.closeRoom(jid);
  }
  await archive.close();
}

let c2sPort = 0;
const PROSODY_CFG = (dir: string) => `daemonize = false
run_as_root = true
pidfile = "${dir}/prosody.pid"
data_path = "${dir}"
log = { { levels = { min = "error" }, to = "file", filename = "${dir}/prosody.log" } }
modules_enabled = { "saslauth"; "disco"; "ping"; "websocket"; "posix" }
modules_disabled = { "s2s" }
c2s_require_encryption = false
consider_websocket_secure = true
certificates = "${dir}"
interfaces = { "127.0.0.1" }
c2s_ports = { tonumber(ENV_BENCH_C2S) }
c2s_direct_tls_ports = {}
legacy_ssl_ports = {}
http_ports = { tonumber(ENV_BENCH_HTTP) }
http_interfaces = { "127.0.0.1" }
https_ports = {}
s2s_ports = {}
VirtualHost "anon.localhost"
  authentication = "anonymous"
`;
let prosodyMode = false;

function start(dataDir: string, port: number): ChildProcess {
  if (prosodyMode) {
    return spawn('prosody', ['-F', '--config', join(dataDir, 'prosody.cfg.lua')], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, BENCH_HTTP: String(port), BENCH_C2S: String(c2sPort) },
    });
  }
  // The shipped build with npm start's node flags: what an operator restarts (tsx would add its own start-up time).
  const args = [
    ...serverNodeFlags(),
    join(root, 'dist/src/cli.js'),
    '--data',
    dataDir,
    '--http-port',
    String(port),
    '--c2s-port',
    String(c2sPort),
    '--log-level',
    'error',
  ];
  return spawn(process.execPath, args, { cwd: root, env: serverEnv(), stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Milliseconds from spawn until a WebSocket stream gets its features. */
async function timeToFeatures(dataDir: string, port: number): Promise<{ ms: number; child: ChildProcess }> {
  const t = performance.now();
  const child = start(dataDir, port);
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/xmpp-websocket`, ['xmpp']);
      ws.on('error', () => res(false));
      ws.on('open', () =>
        ws.send("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='anon.localhost' version='1.0'/>"),
      );
      ws.on('message', (d) => {
        if (/<stream:features/.test(String(d))) {
          ws.terminate();
          res(true);
        }
      });
    });
    if (ok) return { ms: performance.now() - t, child };
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function killRestart(label: string, dataDir: string): Promise<number[]> {
  const port = await freePort();
  c2sPort = await freePort();
  let { child } = await timeToFeatures(dataDir, port); // first start (writes certificates etc.)
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const r = await timeToFeatures(dataDir, port);
    times.push(r.ms);
    child = r.child;
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const sorted = times.slice().sort((a, b) => a - b);
  console.log(
    `${label.padEnd(46)} median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms  (${times.map((x) => x.toFixed(0)).join(', ')})`,
  );
  return times;
}

if (!existsSync(join(root, 'dist/src/cli.js')))
  throw new Error('dist/src/cli.js is missing: run `npm run build` first');
const empty = await mkdtemp(join(tmpdir(), 'restart-empty-'));
const full = REUSE || (await mkdtemp(join(tmpdir(), 'restart-archive-')));
try {
  const t = performance.now();
  if (!REUSE) await populate(full);
  console.log(
    `data folder: ${ROOMS} rooms x ${MESSAGES} messages, ${REUSE ? 'reused' : `built in ${((performance.now() - t) / 1000).toFixed(1)} s`}`,
  );
  await writeFile(join(empty, '.keep'), '');
  await killRestart('restart after kill -9, empty data folder', empty);
  await killRestart(`restart after kill -9, ${ROOMS * MESSAGES} archived messages`, full);
  if (process.argv.includes('--prosody')) {
    // Baseline: Prosody (Debian) on an empty data folder, the same kill -9 and the same WebSocket probe.
    const dir = await mkdtemp(join(tmpdir(), 'restart-prosody-'));
    await writeFile(join(dir, 'prosody.cfg.lua'), PROSODY_CFG(dir));
    prosodyMode = true;
    try {
      await killRestart('Prosody: restart after kill -9, empty data folder', dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
} finally {
  await rm(empty, { recursive: true, force: true });
  if (!KEEP && !REUSE) await rm(full, { recursive: true, force: true });
  else console.log(`kept ${full}`);
}
