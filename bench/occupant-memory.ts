// Memory per idle room occupant: the server runs in this process, N anonymous WebSocket viewers (in a child process)
// log in, send initial presence and join one room, then sit idle. Prints, per occupant, the growth of the JS heap
// (after GC), of memory outside the heap (Buffers) and of RSS, against the same server with no clients, and which
// kinds of heap objects the growth is made of (from two heap snapshots).
// Usage: npm run bench:memory -- [--clients 500] [--no-snapshot]
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { createServer } from '../src/index.js';
import { silentLogger } from '../src/log.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : def; };
const N = Math.min(arg('clients', 500), 5000);
const SNAPSHOT = !args.includes('--no-snapshot');
const TARGET_BYTES = 5 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:memory does)');
const root = fileURLToPath(new URL('..', import.meta.url));

function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 1000));
}
async function measure(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) { gc!(); await new Promise((r) => setImmediate(r)); }
  return process.memoryUsage();
}

/** Self size by kind of heap object: constructor name for objects and closures, one bucket per string kind. */
async function heapByKind(dir: string, label: string): Promise<Map<string, { bytes: number; count: number }>> {
  const file = writeHeapSnapshot(join(process.env.KEEP_SNAPSHOT || dir, `${label}.heapsnapshot`));
  const snap = JSON.parse(await readFile(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[];
  };
  if (!process.env.KEEP_SNAPSHOT) await rm(file);
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [iType, iName, iSize] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const out = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const type = types[snap.nodes[i + iType]!]!;
    const name = snap.strings[snap.nodes[i + iName]!]!;
    const key = type.includes('string') ? '(strings)' : type === 'object' || type === 'closure' ? `${name.slice(0, 50)}${type === 'closure' ? '()' : ''}` : `(${type}) ${name.slice(0, 40)}`;
    const e = out.get(key) ?? { bytes: 0, count: 0 };
    e.bytes += snap.nodes[i + iSize]!;
    e.count++;
    out.set(key, e);
  }
  return out;
}

const dataDir = await mkdtemp(join(tmpdir(), 'bench-memory-'));
const server = createServer({
  domain: 'localhost', dataDir, logLevel: 'warn', http: { host: '127.0.0.1', port: 0 }, tcp: { enabled: false },
  muc: { demoRoom: 'live' },
}, { logger: silentLogger });
await server.start();
const url = `ws://127.0.0.1:${server.httpAddress()!.port}/xmpp-websocket`;
const clients = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/lib/occupant-clients.ts'), url, String(N), 'live@room.localhost'],
  { stdio: ['pipe', 'pipe', 'inherit'], cwd: root });
try {
  await settle();
  const before = await measure();
  const heapBefore = SNAPSHOT ? await heapByKind(dataDir, 'before') : undefined;
  const joined = await new Promise<number>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`viewers not joined after 180 s: ${out}`)), 180_000);
    clients.stdout!.on('data', (d) => {
      out += d;
      const m = /joined (\d+)/.exec(out);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
    clients.on('exit', (code) => reject(new Error(`clients exited ${code}: ${out}`)));
  });
  // the presence storm is over when the heap after GC stops shrinking (queues and send buffers drained); bounded
  let after = await measure();
  for (let i = 0; i < 20; i++) {
    await settle();
    const m = await measure();
    const steady = Math.abs(m.heapUsed - after.heapUsed) < 0.01 * after.heapUsed && Math.abs(m.external - after.external) < 0.01 * after.external + 4096;
    after = m;
    if (steady) break;
  }
  const occupants = [...server.muc.rooms.values()].reduce((n, r) => n + r.occupantCount, 0);
  const per = (k: keyof NodeJS.MemoryUsage) => (after[k] - before[k]) / joined;
  console.log(`\n${joined} idle anonymous occupants in one room (WebSocket, everyone sees everyone), ${new Date().toISOString()}`);
  console.log(`occupants seated: ${occupants}`);
  console.log('| per occupant | bytes |');
  console.log('| --- | ---: |');
  console.log(`| JS heap (after GC) | ${per('heapUsed').toFixed(0)} |`);
  console.log(`| outside the heap (Buffers, external) | ${per('external').toFixed(0)} |`);
  console.log(`| RSS | ${per('rss').toFixed(0)} |`);
  const total = per('heapUsed') + per('external');
  console.log(`heap + external = ${(total / 1024).toFixed(2)} KiB per occupant: ${total <= TARGET_BYTES ? 'within' : 'OVER'} the 5 KiB target` +
    ' (RSS also counts heap headroom and allocator slack; kernel socket buffers are in neither)');
  if (heapBefore) {
    const heapAfter = await heapByKind(dataDir, 'after');
    const rows = [...heapAfter].map(([k, v]) => {
      const b = heapBefore.get(k) ?? { bytes: 0, count: 0 };
      return { k, bytes: (v.bytes - b.bytes) / joined, count: (v.count - b.count) / joined };
    }).sort((a, b) => b.bytes - a.bytes).slice(0, 15);
    console.log('\nwhat the heap growth is made of (heap snapshot diff, per occupant):');
    console.log('| kind | bytes | objects |');
    console.log('| --- | ---: | ---: |');
    for (const r of rows) console.log(`| ${r.k.replace(/\|/g, '/')} | ${r.bytes.toFixed(0)} | ${r.count.toFixed(2)} |`);
  }
} finally {
  clients.stdin!.end();
  await new Promise((r) => { if (clients.exitCode !== null) r(null); else { clients.once('exit', r); setTimeout(() => { clients.kill('SIGKILL'); r(null); }, 10_000).unref(); } });
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}
