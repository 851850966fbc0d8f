// Memory per idle room occupant: the server runs in this process, N anonymous WebSocket viewers (in a child process)
// log in and send initial presence, then join one room and sit idle. Prints, per viewer, the growth of the JS heap
// (after GC), of memory outside the heap (Buffers) and of RSS — for the connection alone and for the seat in the
// room — against the same server with no clients, and which kinds of heap objects make it (heap snapshot diffs).
// Usage: npm run bench:memory -- [--clients 500] [--no-snapshot]
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { startInProcessServer } from './lib/in-process-server.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
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
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage();
}

/**
 * Self size by kind of heap object: constructor name for objects and closures, one bucket per string kind. Arrays,
 * strings and hidden objects are named after the object holding them (its first strong retainer, skipping plain
 * Objects/Arrays up to 3 levels), so "(object properties) of Socket" says whose backing store it is.
 */
interface Kind {
  bytes: number;
  count: number;
}
type Kinds = Map<string, Kind>;

/**
 * The heap by kind (below), written to a file whose path is returned: kept in this process between snapshots, a
 * table of thousands of kinds would be counted in the next measurement as the viewers' growth (~2.5 KB per viewer
 * at 1,000 of them).
 */
async function heapByKindToFile(dir: string, label: string): Promise<string> {
  const kinds = await heapByKind(dir, label);
  const path = join(dir, `${label}.kinds.json`);
  await writeFile(path, JSON.stringify([...kinds]));
  return path;
}
async function readKinds(path: string): Promise<Kinds> {
  return new Map(JSON.parse(await readFile(path, 'utf8')) as [string, Kind][]);
}

async function heapByKind(dir: string, label: string): Promise<Kinds> {
  const file = writeHeapSnapshot(join(process.env.KEEP_SNAPSHOT || dir, `${label}.heapsnapshot`));
  const snap = JSON.parse(await readFile(file, 'utf8')) as {
    snapshot: {
      meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
    };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  if (!process.env.KEEP_SNAPSHOT) await rm(file);
  const f = snap.snapshot.meta.node_fields;
  const ef = snap.snapshot.meta.edge_fields;
  const types = snap.snapshot.meta.node_types[0];
  const edgeTypes = snap.snapshot.meta.edge_types[0];
  const [iType, iName, iSize, iEdges] = [
    f.indexOf('type'),
    f.indexOf('name'),
    f.indexOf('self_size'),
    f.indexOf('edge_count'),
  ];
  const [eType, eTo] = [ef.indexOf('type'), ef.indexOf('to_node')];
  const count = snap.nodes.length / f.length;
  // First strong retainer of every node (by node index).
  const owner = new Int32Array(count).fill(-1);
  for (let n = 0, e = 0; n < count; n++) {
    const edges = snap.nodes[n * f.length + iEdges]!;
    for (let k = 0; k < edges; k++, e += ef.length) {
      const et = edgeTypes[snap.edges[e + eType]!];
      if (et === 'weak' || et === 'shortcut') continue;
      const to = snap.edges[e + eTo]! / f.length;
      if (owner[to] === -1) owner[to] = n;
    }
  }
  const typeOf = (n: number) => types[snap.nodes[n * f.length + iType]!]!;
  const nameOf = (n: number) => snap.strings[snap.nodes[n * f.length + iName]!]!;
  const holder = (n: number): string => {
    let o = owner[n]!;
    for (let depth = 0; o >= 0 && depth < 3; depth++) {
      const t = typeOf(o);
      const name = nameOf(o);
      // What this bench's own code holds on the stack (its top-level variables live in a suspended async frame while
      // the snapshot is written): not the server's.
      if (t === 'synthetic' && name === '(Stack roots)') return '(held by the stack: the bench itself)';
      if ((t === 'object' || t === 'closure') && name !== 'Object' && name !== 'Array')
        return t === 'closure' ? `${name.slice(0, 30)}()` : name.slice(0, 30);
      o = owner[o]!;
    }
    return '?';
  };
  const out: Kinds = new Map();
  for (let n = 0; n < count; n++) {
    const i = n * f.length;
    const type = typeOf(n);
    const name = nameOf(n);
    const key = type.includes('string')
      ? `(strings) of ${holder(n)}`
      : type === 'object' || type === 'closure'
        ? `${name.slice(0, 50)}${type === 'closure' ? '()' : ''}`
        : type === 'array' || type === 'hidden'
          ? `(${type}) ${name.slice(0, 30)} of ${holder(n)}`
          : `(${type}) ${name.slice(0, 40)}`;
    const e = out.get(key) ?? { bytes: 0, count: 0 };
    e.bytes += snap.nodes[i + iSize]!;
    e.count++;
    out.set(key, e);
  }
  return out;
}

/**
 * Baseline, in this process: a bare `ws` server (the options the server uses) holding N idle
 * sockets. What a connection costs below this is Node's and ws's floor, not ours.
 */
async function bareWsBaseline(): Promise<{ heap: number; external: number; rss: number; n: number }> {
  const http = createHttpServer();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
    maxPayload: 256 * 1024,
    handleProtocols: () => 'xmpp',
  });
  const held: WsSocket[] = [];
  http.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      held.push(ws);
      ws.on('message', () => {});
    }),
  );
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  await settle();
  const before = await measure();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench/lib/occupant-clients.ts'), `ws://127.0.0.1:${port}/`, String(N), '-'],
    { stdio: ['pipe', 'pipe', 'inherit'], cwd: root },
  );
  const half = await waitLine(child, 'bound');
  const mid = await steady();
  child.stdin!.write('more\n');
  const n = (await waitLine(child, 'bound')) - half;
  const after = await steady();
  child.stdin!.end();
  await new Promise((r) => {
    if (child.exitCode !== null) r(null);
    else {
      child.once('exit', r);
      setTimeout(() => {
        child.kill('SIGKILL');
        r(null);
      }, 10_000).unref();
    }
  });
  for (const ws of held) ws.terminate();
  wss.close();
  await new Promise((r) => http.close(r));
  void before;
  return {
    heap: (after.heapUsed - mid.heapUsed) / n,
    external: (after.external - mid.external) / n,
    rss: (after.rss - mid.rss) / n,
    n,
  };
}

const { server, dataDir, url, stop } = await startInProcessServer({
  name: 'memory',
  demoRoom: 'live',
  noAvatars: args.includes('--no-avatars'),
  // The web chat's assets load and compress in the background after start: not a viewer's, kept out of the figures.
  noWebchat: true,
});
// The stock of anonymous addresses drawn ahead fills in the first second or two: full before the first viewers come,
// the pictures they take fill the avatars' bounded caches during the first half, as every later measurement sees them.
await untilStockFull();
const clients = spawn(
  process.execPath,
  ['--import', 'tsx', join(root, 'bench/lib/occupant-clients.ts'), url, String(N), 'live@room.localhost'],
  { stdio: ['pipe', 'pipe', 'inherit'], cwd: root },
);
/** Resolves with the number in the child's next "<word> N" line. */
function waitLine(clients: ChildProcess, word: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`no "${word}" from the viewers after 180 s: ${out}`)), 180_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = new RegExp(`${word} (\\d+)`).exec(out);
      if (m) {
        clearTimeout(t);
        clients.stdout!.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    clients.stdout!.on('data', onData);
    clients.once('exit', (code) => reject(new Error(`viewers exited ${code}: ${out}`)));
  });
}

async function untilStockFull(): Promise<void> {
  const stock = server.drawnAhead;
  for (let i = 0; stock && !stock.full && i < 200; i++) await new Promise((r) => setTimeout(r, 50));
  if (stock && !stock.full) console.log(`note: the drawn-ahead stock is not full (${stock.count}) at a measurement`);
}

/**
 * Memory once queues and send buffers have drained: the heap after GC stops changing (bounded). The stock of
 * anonymous addresses drawn ahead (a fixed size, refilled in idle time after logins took from it) is full first, so
 * it counts the same at every measurement and not per viewer.
 */
async function steady(): Promise<NodeJS.MemoryUsage> {
  await untilStockFull();
  let last = await measure();
  for (let i = 0; i < 20; i++) {
    await settle();
    const m = await measure();
    const same =
      Math.abs(m.heapUsed - last.heapUsed) < 0.01 * last.heapUsed &&
      Math.abs(m.external - last.external) < 0.01 * last.external + 4096;
    last = m;
    if (same) break;
  }
  return last;
}

try {
  await settle();
  // Per-viewer figures are marginal: what the second half of the viewers added, connecting and then sitting down,
  // so one-time costs (code warming up, caches, the room itself) stay out of them.
  const half = await waitLine(clients, 'bound');
  const empty = await steady();
  const heapEmpty = SNAPSHOT ? await heapByKindToFile(dataDir, 'empty') : undefined;
  clients.stdin!.write('more\n');
  const bound = await waitLine(clients, 'bound');
  const conn = await steady();
  const heapConn = SNAPSHOT ? await heapByKindToFile(dataDir, 'bound') : undefined;
  clients.stdin!.write('join\n');
  await waitLine(clients, 'joined');
  const seatedHalf = await steady();
  clients.stdin!.write('join\n');
  const joinedAll = await waitLine(clients, 'joined');
  const after = await steady(); // the presence storm is over
  // Before the floor's run below, whose sockets would otherwise be counted as the seated viewers'.
  const heapAfter = heapConn ? await heapByKindToFile(dataDir, 'joined') : undefined;
  const joined = joinedAll - half;
  const occupants = [...server.muc.rooms.values()].reduce((n, r) => n + r.occupantCount, 0);
  const per = (a: NodeJS.MemoryUsage, b: NodeJS.MemoryUsage, k: keyof NodeJS.MemoryUsage) => (a[k] - b[k]) / joined;
  console.log(
    `\n${joinedAll} idle anonymous viewers (WebSocket; ${bound} bound), ${occupants} seated in one room (everyone sees everyone), ${new Date().toISOString()}`,
  );
  if (server.drawnAhead)
    console.log(`anonymous addresses drawn ahead: a stock of ${server.drawnAhead.count}, full at each measurement`);
  console.log(
    `per viewer: what the last ${joined} added (connected after the first ${half}, seated after the first ${half} sat down)`,
  );
  console.log('| bytes per viewer | connected (login, bind, presence) | + seated in the room | total |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [label, k] of [
    ['JS heap (after GC)', 'heapUsed'],
    ['outside the heap (Buffers, external)', 'external'],
    ['RSS', 'rss'],
  ] as const) {
    const c = per(conn, empty, k);
    const r = per(after, seatedHalf, k);
    console.log(`| ${label} | ${c.toFixed(0)} | ${r.toFixed(0)} | ${(c + r).toFixed(0)} |`);
  }
  // The floor is measured now, with the viewers still connected to the server: a run of its own, same process.
  const bare = await bareWsBaseline();
  console.log(
    `| same run, bare \`ws\` server holding ${bare.n} idle sockets (the floor) | heap ${bare.heap.toFixed(0)}, external ${bare.external.toFixed(0)}, RSS ${bare.rss.toFixed(0)} | | |`,
  );
  const total =
    per(conn, empty, 'heapUsed') +
    per(conn, empty, 'external') +
    per(after, seatedHalf, 'heapUsed') +
    per(after, seatedHalf, 'external');
  const floor = bare.heap + bare.external;
  console.log(
    `ours above the bare ws floor: ${((total - floor) / 1024).toFixed(2)} KiB per idle occupant (floor ${(floor / 1024).toFixed(2)} KiB)`,
  );
  console.log(
    `heap + external = ${(total / 1024).toFixed(2)} KiB per idle occupant: ${total <= TARGET_BYTES ? 'within' : 'OVER'} the 5 KiB target` +
      ' (RSS also counts heap headroom and allocator slack; kernel socket buffers are in neither)',
  );
  if (heapEmpty && heapConn && heapAfter) {
    const diff = (a: Kinds, b: Kinds, n: number) =>
      new Map(
        [...a].map(([k, v]) => [
          k,
          { bytes: (v.bytes - (b.get(k)?.bytes ?? 0)) / n, count: (v.count - (b.get(k)?.count ?? 0)) / n },
        ]),
      );
    const kindsConn = await readKinds(heapConn);
    const c = diff(kindsConn, await readKinds(heapEmpty), bound - half); // the second half connecting
    const r = diff(await readKinds(heapAfter), kindsConn, joinedAll); // everyone sitting down
    const keys = [...new Set([...c.keys(), ...r.keys()])]
      .map((k) => ({ k, c: c.get(k) ?? { bytes: 0, count: 0 }, r: r.get(k) ?? { bytes: 0, count: 0 } }))
      .sort((a, b) => b.c.bytes + b.r.bytes - (a.c.bytes + a.r.bytes))
      .slice(0, 30);
    console.log('\nwhat the heap growth is made of (heap snapshot diffs, bytes and objects per viewer):');
    console.log('| kind | connected | objects | + seated | objects |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const x of keys) {
      console.log(
        `| ${x.k.replace(/\|/g, '/')} | ${x.c.bytes.toFixed(0)} | ${x.c.count.toFixed(1)} | ${x.r.bytes.toFixed(0)} | ${x.r.count.toFixed(1)} |`,
      );
    }
  }
} finally {
  clients.stdin!.end();
  await new Promise((r) => {
    if (clients.exitCode !== null) r(null);
    else {
      clients.once('exit', r);
      setTimeout(() => {
        clients.kill('SIGKILL');
        r(null);
      }, 10_000).unref();
    }
  });
  await stop();
}
