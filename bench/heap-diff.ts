// Compares two V8 heap snapshots (.heapsnapshot JSON, e.g. from `bench:soak --heap-snapshots DIR`) by constructor:
// object count and self size in each, sorted by growth, plus the largest Map, Set and Array backing stores (their
// sizes and what holds them) — enough to name the structure that keeps growing without a debugger.
// Usage: node --import tsx bench/heap-diff.ts <older.heapsnapshot> <newer.heapsnapshot> [--top 30]
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
  return { byName, tables };
}

const args = process.argv.slice(2);
const [a, b] = args.filter((x) => !x.startsWith('--') && !/^\d+$/.test(x));
if (!a || !b) throw new Error('usage: heap-diff.ts <older.heapsnapshot> <newer.heapsnapshot> [--top N]');
const ti = args.indexOf('--top');
const TOP = ti >= 0 ? Number(args[ti + 1]) : 30;
const A = parse(a);
const B = parse(b);
const rows = [...new Set([...A.byName.keys(), ...B.byName.keys()])].map((k) => {
  const x = A.byName.get(k) ?? { count: 0, size: 0 };
  const y = B.byName.get(k) ?? { count: 0, size: 0 };
  return { k, dc: y.count - x.count, ds: y.size - x.size, c: y.count, s: y.size };
});
rows.sort((p, q) => q.ds - p.ds);
console.log('| constructor | count (newer) | Δ count | self size (newer) | Δ self size |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows.slice(0, TOP)) console.log(`| ${r.k.slice(0, 60)} | ${r.c} | ${r.dc} | ${r.s} | ${r.ds} |`);
const tot = (p: Parsed) => [...p.byName.values()].reduce((n, r) => n + r.size, 0);
console.log(`\ntotal self size: ${tot(A)} → ${tot(B)} (${tot(B) - tot(A)} bytes)`);
console.log('\nlargest Map/Set/Array backing stores in the newer snapshot (bytes, held by):');
for (const t of B.tables.sort((p, q) => q.size - p.size).slice(0, TOP))
  console.log(`  ${t.size}  ${t.name}  ${t.holder}`);
