// Compares two V8 heap snapshots (.heapsnapshot JSON, e.g. from `bench:soak --heap-snapshots DIR`) by constructor:
// object count and self size in each, sorted by growth, plus the largest Map, Set and Array backing stores (their
// sizes and what holds them) — enough to name the structure that keeps growing without a debugger. Last, the growth
// by retainer path: every object is filed under its shortest path from the GC roots (the last few steps, indexes
// dropped), so a table that grew shows as e.g. `array :: Map.table < d.#s < AvatarService.hashes < Object.avatars`
// even when its backing store was replaced by a larger one (a new object, which a per-object comparison misses).
// Usage: node --import tsx bench/heap-diff.ts <older.heapsnapshot> <newer.heapsnapshot> [--top 30] [--depth 5]
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Objects whose entries live in a separate backing store: the 'table' of a Map or Set, the 'elements' of an Array. */
const TABLED = new Set(['Map', 'Set', 'Array']);

interface Parsed {
  byName: Map<string, { count: number; size: number }>;
  /** for each table-like node (Map/Set backing store), who holds it */
  tables: { name: string; size: number; holder: string }[];
  /** self size and count by shortest retainer path (see pathTotals) */
  byPath: Map<string, { count: number; size: number }>;
}

function parse(file: string): Parsed {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const nf = s.snapshot.meta.node_fields;
  const ef = s.snapshot.meta.edge_fields;
  const N = nf.length;
  const E = ef.length;
  const types = s.snapshot.meta.node_types[0];
  const etypes = s.snapshot.meta.edge_types[0];
  const iType = nf.indexOf('type'),
    iName = nf.indexOf('name'),
    iSize = nf.indexOf('self_size'),
    iEdges = nf.indexOf('edge_count');
  const eType = ef.indexOf('type'),
    eName = ef.indexOf('name_or_index'),
    eTo = ef.indexOf('to_node');
  const byName = new Map<string, { count: number; size: number }>();
  const label = (n: number) => {
    const t = types[s.nodes[n + iType]!]!;
    const name = s.strings[s.nodes[n + iName]!]!;
    return t === 'object' || t === 'closure' || t === 'native' ? name : `(${t}) ${t === 'string' ? '' : name}`;
  };
  // first pass: per-constructor totals; remember each node's first edge index
  const firstEdge: number[] = [];
  let e = 0;
  for (let n = 0; n < s.nodes.length; n += N) {
    firstEdge.push(e);
    e += s.nodes[n + iEdges]! * E;
    const key = label(n);
    const r = byName.get(key) ?? { count: 0, size: 0 };
    r.count++;
    r.size += s.nodes[n + iSize]!;
    byName.set(key, r);
  }
  // Maps and Sets: the "table" internal edge leads to the backing store; record its size and the holder's edges in
  const tables: Parsed['tables'] = [];
  const heldBy = new Map<number, string>();
  for (let n = 0, k = 0; n < s.nodes.length; n += N, k++) {
    const from = label(n);
    for (let x = firstEdge[k]!, end = x + s.nodes[n + iEdges]! * E; x < end; x += E) {
      const to = s.edges[x + eTo]!;
      const et = etypes[s.edges[x + eType]!];
      const en = et === 'element' || et === 'hidden' ? String(s.edges[x + eName]) : s.strings[s.edges[x + eName]!];
      const toName = label(to);
      if (TABLED.has(toName) && !heldBy.has(to)) heldBy.set(to, `${from}.${en}`);
    }
  }
  for (let n = 0, k = 0; n < s.nodes.length; n += N, k++) {
    const name = label(n);
    if (!TABLED.has(name)) continue;
    const store = name === 'Array' ? 'elements' : 'table';
    for (let x = firstEdge[k]!, end = x + s.nodes[n + iEdges]! * E; x < end; x += E) {
      if (s.strings[s.edges[x + eName]!] === store && etypes[s.edges[x + eType]!] === 'internal') {
        tables.push({ name, size: s.nodes[s.edges[x + eTo]! + iSize]!, holder: heldBy.get(n) ?? '?' });
      }
    }
  }
  return { byName, tables, byPath: pathTotals(s, firstEdge, label) };
}

/**
 * Files every object under its shortest path from the root (breadth-first, weak edges ignored): the last DEPTH
 * steps as `holder.edge`, array indexes and ids as #, so the entries of one table share one key.
 */
function pathTotals(
  s: Snapshot,
  firstEdge: number[],
  label: (n: number) => string,
): Map<string, { count: number; size: number }> {
  const meta = s.snapshot.meta;
  const N = meta.node_fields.length;
  const E = meta.edge_fields.length;
  const iSize = meta.node_fields.indexOf('self_size');
  const iEdges = meta.node_fields.indexOf('edge_count');
  const eType = meta.edge_fields.indexOf('type');
  const eName = meta.edge_fields.indexOf('name_or_index');
  const eTo = meta.edge_fields.indexOf('to_node');
  const etypes = meta.edge_types[0];
  const count = s.nodes.length / N;
  const parent = new Int32Array(count).fill(-1);
  const via = new Int32Array(count).fill(-1); // the edge (index into s.edges) from the parent
  const queue = new Int32Array(count);
  let head = 0,
    tail = 0;
  queue[tail++] = 0;
  parent[0] = 0;
  while (head < tail) {
    const k = queue[head++]!;
    for (let x = firstEdge[k]!, end = x + s.nodes[k * N + iEdges]! * E; x < end; x += E) {
      if (etypes[s.edges[x + eType]!] === 'weak') continue;
      const to = s.edges[x + eTo]! / N;
      if (parent[to] !== -1) continue;
      parent[to] = k;
      via[to] = x;
      queue[tail++] = to;
    }
  }
  const edgeName = (x: number) => {
    const t = etypes[s.edges[x + eType]!];
    return t === 'element' || t === 'hidden' ? '#' : s.strings[s.edges[x + eName]!]!.replace(/\d+/g, '#');
  };
  const out = new Map<string, { count: number; size: number }>();
  for (let k = 1; k < count; k++) {
    if (parent[k] === -1) continue; // unreachable (only weakly held)
    const steps: string[] = [];
    for (let c = k, d = 0; c !== 0 && d < DEPTH; c = parent[c]!, d++) {
      steps.push(`${label(parent[c]! * N).replace(/@\d+/g, '@#')}.${edgeName(via[c]!)}`);
    }
    const key = `${label(k * N).slice(0, 40)} :: ${steps.join(' < ')}`;
    const r = out.get(key) ?? { count: 0, size: 0 };
    r.count++;
    r.size += s.nodes[k * N + iSize]!;
    out.set(key, r);
  }
  return out;
}

const args = process.argv.slice(2);
const [a, b] = args.filter((x) => !x.startsWith('--') && !/^\d+$/.test(x));
if (!a || !b) throw new Error('usage: heap-diff.ts <older.heapsnapshot> <newer.heapsnapshot> [--top N]');
const ti = args.indexOf('--top');
const TOP = ti >= 0 ? Number(args[ti + 1]) : 30;
const di = args.indexOf('--depth');
const DEPTH = di >= 0 ? Number(args[di + 1]) : 5;
const A = parse(a);
const B = parse(b);
type Totals = Map<string, { count: number; size: number }>;
/** Every key of either snapshot's totals, with the newer one's count and size and the change in each. */
function diffTotals(older: Totals, newer: Totals): { k: string; dc: number; ds: number; c: number; s: number }[] {
  return [...new Set([...older.keys(), ...newer.keys()])].map((k) => {
    const x = older.get(k) ?? { count: 0, size: 0 };
    const y = newer.get(k) ?? { count: 0, size: 0 };
    return { k, dc: y.count - x.count, ds: y.size - x.size, c: y.count, s: y.size };
  });
}
const rows = diffTotals(A.byName, B.byName);
rows.sort((p, q) => q.ds - p.ds);
console.log('| constructor | count (newer) | Δ count | self size (newer) | Δ self size |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows.slice(0, TOP)) console.log(`| ${r.k.slice(0, 60)} | ${r.c} | ${r.dc} | ${r.s} | ${r.ds} |`);
const tot = (p: Parsed) => [...p.byName.values()].reduce((n, r) => n + r.size, 0);
console.log(`\ntotal self size: ${tot(A)} → ${tot(B)} (${tot(B) - tot(A)} bytes)`);
console.log('\nlargest Map/Set/Array backing stores in the newer snapshot (bytes, held by):');
for (const t of B.tables.sort((p, q) => q.size - p.size).slice(0, TOP))
  console.log(`  ${t.size}  ${t.name}  ${t.holder}`);
console.log('\ngrowth by shortest retainer path (bytes of self size, objects; newest step first):');
const paths = diffTotals(A.byPath, B.byPath);
paths.sort((p, q) => Math.abs(q.ds) - Math.abs(p.ds));
for (const p of paths.slice(0, TOP))
  console.log(`  ${p.ds > 0 ? '+' : ''}${p.ds}  ${p.dc > 0 ? '+' : ''}${p.dc}  ${p.k}`);
