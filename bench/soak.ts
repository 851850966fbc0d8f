// Soak: the server runs in this process, `--viewers` anonymous WebSocket viewers (a child process) churn through one
// room for `--minutes` — join, chat a little, stay a while, leave, come back — and every `--sample-seconds` the
// heap after GC, external memory and RSS are sampled. After the warm-up the least-squares slope of each is printed;
// the run is flagged as a leak when the heap keeps growing (slope and last-quarter mean both past thresholds).
// Bounded caches (parsed JIDs, computed avatars' PNGs and vCards) fill up over the first thousands of distinct
// viewers and look like growth, so the verdict judges the second half of the run (`--steady-from-minute`, default
// half of --minutes), when they are full; the slope from the end of the warm-up is printed too, and the heap once
// everyone has left against the heap before anyone came.
// Usage: npm run bench:soak -- [--minutes 60] [--viewers 400] [--stay 60] [--sample-seconds 30] [--warmup-minutes 5]
//        [--steady-from-minute M] [--no-avatars] [--avatar-cache-size N] [--heap-snapshots DIR]
// --avatar-cache-size N sets avatars.cacheSize (default 10,000, which this churn fills in about 26 minutes): a small
// one fills in minutes, so a short run shows whether anything besides the bounded caches grows.
// --heap-snapshots DIR writes V8 heap snapshots (after GC) into DIR: before the first viewer, at a third of the run,
// when the verdict's steady state begins, at the last sample with viewers and once the last viewer has left; compare
// them with bench/heap-diff.ts to see what grows (steady start against last sample: what the verdict's slope is).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { startInProcessServer } from './lib/in-process-server.js';
import { memoizedJids } from '../src/xmpp/jid.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const MINUTES = arg('minutes', 60);
const VIEWERS = Math.min(arg('viewers', 400), 5000);
const STAY = arg('stay', 60);
const SAMPLE_S = Math.max(5, arg('sample-seconds', 30));
const WARMUP_MIN = arg('warmup-minutes', Math.min(5, MINUTES / 4));
const STEADY_MIN = Math.max(WARMUP_MIN, arg('steady-from-minute', MINUTES / 2));
const snapIdx = args.indexOf('--heap-snapshots');
const SNAP_DIR = snapIdx >= 0 ? args[snapIdx + 1] : undefined;
if (snapIdx >= 0 && !SNAP_DIR) throw new Error('--heap-snapshots needs a directory');
if (SNAP_DIR) mkdirSync(SNAP_DIR, { recursive: true });
/** Writes a heap snapshot named for `label` when --heap-snapshots is given (the caller has just collected garbage). */
function snapshot(label: string): void {
  if (!SNAP_DIR) return;
  const file = writeHeapSnapshot(join(SNAP_DIR, `soak-${label}.heapsnapshot`));
  console.log(`heap snapshot: ${file}`);
}
if (!(MINUTES > 0 && MINUTES <= 24 * 60)) throw new Error('--minutes must be between 0 and 1440');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:soak does)');
const root = fileURLToPath(new URL('..', import.meta.url));
const ROOM = 'soak@room.localhost';

interface Sample {
  t: number;
  heap: number;
  external: number;
  rss: number;
  heapTotal: number;
  occupants: number;
  sessions: number;
  clientCpu: number;
  counts: Record<string, number>;
}

async function measure(): Promise<{ heap: number; external: number; rss: number; heapTotal: number }> {
  for (let i = 0; i < 2; i++) {
    gc!();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external, rss: m.rss, heapTotal: getHeapStatistics().total_heap_size };
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0,
    den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den ? num / den : 0;
}
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
const MB = (b: number) => (b / 1048576).toFixed(1);

const { server, url, stop } = await startInProcessServer({
  name: 'soak',
  demoRoom: 'soak',
  noAvatars: args.includes('--no-avatars'),
  avatarCacheSize: args.includes('--avatar-cache-size') ? arg('avatar-cache-size', 0) : undefined,
});
await new Promise((r) => setTimeout(r, 3000)); // start-up work in the background (web chat assets, avatar masks)
const before = await measure();
snapshot('0-before');
console.log(
  `soak: ${VIEWERS} churning viewers (mean stay ${STAY} s) in ${ROOM} for ${MINUTES} min, sampling every ${SAMPLE_S} s, warm-up ${WARMUP_MIN} min; ${cpus().length} cores, ${new Date().toISOString()}`,
);
const clients = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    join(root, 'bench/lib/soak-clients.ts'),
    url,
    String(VIEWERS),
    ROOM,
    String(MINUTES * 60),
    String(STAY),
  ],
  { stdio: ['pipe', 'pipe', 'inherit'], cwd: root },
);
let lastCounts: Record<string, number> = {};
let childDone = false;
let lineBuf = '';
clients.stdout!.setEncoding('utf8');
clients.stdout!.on('data', (d: string) => {
  lineBuf += d;
  let i;
  while ((i = lineBuf.indexOf('\n')) >= 0) {
    const line = lineBuf.slice(0, i);
    lineBuf = lineBuf.slice(i + 1);
    if (line === 'done') childDone = true;
    else if (line.startsWith('{')) lastCounts = JSON.parse(line) as Record<string, number>;
  }
});
const childExit = new Promise<void>((r) =>
  clients.once('exit', () => {
    childDone = true;
    r();
  }),
);

/** The client process's CPU (utime + stime) in seconds, from /proc. */
async function childCpu(): Promise<number> {
  try {
    const { readFile } = await import('node:fs/promises');
    const f = (await readFile(`/proc/${clients.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

const samples: Sample[] = [];
// Minutes at which a snapshot is taken with viewers connected (the last one a sample before the run ends).
const snapAt = [MINUTES / 3, STEADY_MIN, MINUTES - (1.5 * SAMPLE_S) / 60].sort((a, b) => a - b);
const start = Date.now();
const hardStop = start + (MINUTES * 60 + 120) * 1000;
let prevCpu = { t: start, server: process.cpuUsage(), client: 0 };
let prevJoin = { ms: 0, n: 0 };
console.log(
  '| min | heap after GC MB | external MB | RSS MB | heap total MB | occupants | sessions | connecting | joins | join ms (mean) | msgs sent | errors | server CPU % | clients CPU % |',
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
try {
  while (!childDone && Date.now() < hardStop) {
    await new Promise((r) => setTimeout(r, SAMPLE_S * 1000));
    clients.stdin!.write('report\n');
    await new Promise((r) => setTimeout(r, 200));
    const m = await measure();
    const now = Date.now();
    const cpu = process.cpuUsage(prevCpu.server);
    const cc = await childCpu();
    const serverPct = ((cpu.user + cpu.system) / 1000 / (now - prevCpu.t)) * 100;
    const clientPct = (((cc - prevCpu.client) * 1000) / (now - prevCpu.t)) * 100;
    prevCpu = { t: now, server: process.cpuUsage(), client: cc };
    const occupants = [...server.muc.rooms.values()].reduce((n, r) => n + r.occupantCount, 0);
    const s: Sample = {
      t: (now - start) / 60000,
      ...m,
      occupants,
      sessions: server.connectionCount,
      clientCpu: clientPct,
      counts: lastCounts,
    };
    samples.push(s);
    if (snapAt.length > 0 && s.t >= snapAt[0]) {
      while (snapAt.length > 0 && s.t >= snapAt[0]) snapAt.shift(); // one snapshot per sample, however many marks passed
      snapshot(`1-minute-${s.t.toFixed(1)}`);
    }
    const thisJoin = { ms: lastCounts.joinMsTotal ?? 0, n: lastCounts.joins ?? 0 };
    console.log(
      `| ${s.t.toFixed(1)} | ${MB(s.heap)} | ${MB(s.external)} | ${MB(s.rss)} | ${MB(s.heapTotal)} | ${occupants} | ${s.sessions} | ${lastCounts.connecting ?? 0} | ${lastCounts.joins ?? 0} | ${(((lastCounts.joinMsTotal ?? 0) - prevJoin.ms) / Math.max(1, (lastCounts.joins ?? 0) - prevJoin.n)).toFixed(0)} | ${lastCounts.messagesSent ?? 0} | ${lastCounts.errors ?? 0} | ${serverPct.toFixed(0)} | ${clientPct.toFixed(0)}${clientPct > 85 ? ' SATURATED' : ''} |`,
    );
    prevJoin = thisJoin;
  }
} finally {
  clients.stdin!.end();
  await Promise.race([childExit, new Promise((r) => setTimeout(r, 10_000))]);
  if (clients.exitCode === null) clients.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 5000)); // leaves and closes are processed
  const end = await measure();
  snapshot('2-after');
  if (server.avatars.enabled)
    console.log(`avatar cache entries at the end: ${JSON.stringify(server.avatars.cacheEntries())}`);
  // the parsed-address memo (emptied at 20,000): viewers who came and went should have left nothing in it
  console.log(`parsed-JID memo entries at the end: ${memoizedJids()}`);
  console.log(
    `\nheap after GC with nobody connected: ${MB(before.heap)} MB before the first viewer, ${MB(end.heap)} MB after the last left (${server.connectionCount} connections, ${[...server.muc.rooms.values()].reduce((n, r) => n + r.occupantCount, 0)} occupants)`,
  );
  await stop();
}

interface Trend {
  from: number;
  to: number;
  n: number;
  heap: number; // bytes per minute, least squares
  rss: number;
  external: number;
  firstQ: number; // mean heap of the first and last quarter of the samples
  lastQ: number;
}

function trend(from: number): Trend | null {
  const part = samples.filter((s) => s.t >= from && s.occupants > 0);
  if (part.length < 4) return null;
  const xs = part.map((s) => s.t);
  const q = Math.max(1, Math.floor(part.length / 4));
  return {
    from: xs[0]!,
    to: xs[xs.length - 1]!,
    n: part.length,
    heap: slope(
      xs,
      part.map((s) => s.heap),
    ),
    rss: slope(
      xs,
      part.map((s) => s.rss),
    ),
    external: slope(
      xs,
      part.map((s) => s.external),
    ),
    firstQ: mean(part.slice(0, q).map((s) => s.heap)),
    lastQ: mean(part.slice(-q).map((s) => s.heap)),
  };
}

function printTrend(label: string, t: Trend): void {
  console.log(
    `  ${label} (${t.n} samples, ${t.from.toFixed(1)}–${t.to.toFixed(1)} min): heap after GC ${(t.heap / 1024).toFixed(1)} KiB/min (first quarter ${MB(t.firstQ)} MB, last quarter ${MB(t.lastQ)} MB); external ${(t.external / 1024).toFixed(1)} KiB/min; RSS ${(t.rss / 1024).toFixed(1)} KiB/min`,
  );
}

const afterWarmup = trend(WARMUP_MIN);
const steadyPart = trend(STEADY_MIN);
if (!afterWarmup || !steadyPart) {
  console.log(
    `\ntoo few samples after minute ${STEADY_MIN} (at least 4 with viewers in the room): run longer for a slope`,
  );
} else {
  const last = lastCounts;
  console.log(
    `\n${last.joins ?? 0} joins, ${last.leaves ?? 0} leaves, ${last.messagesSent ?? 0} messages sent, ${last.messagesReceived ?? 0} received, ${last.errors ?? 0} errors`,
  );
  printTrend(`after the ${WARMUP_MIN}-minute warm-up (bounded caches still filling)`, afterWarmup);
  printTrend(`steady state, from minute ${STEADY_MIN} (the verdict)`, steadyPart);
  // A leak: the heap keeps growing once the caches are full — at least 64 KiB/min (a few MB an hour) and the last
  // quarter above the first by more than 5%. Occupancy wanders with the churn, so small slopes are noise.
  const leak = steadyPart.heap > 64 * 1024 && steadyPart.lastQ > steadyPart.firstQ * 1.05;
  console.log(
    leak
      ? `LEAK: heap grows ${(steadyPart.heap / 1024).toFixed(0)} KiB/min from minute ${STEADY_MIN}`
      : `no leak: heap flat from minute ${STEADY_MIN}`,
  );
  process.exitCode = leak ? 1 : 0;
}
