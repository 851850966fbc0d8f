// A small import-graph walker over the TypeScript sources: which module loads which at runtime. Type-only imports
// (`import type`, `export type`, or every named specifier marked `type`) are erased by the compiler and load
// nothing, so they are not edges. Dynamic import() is not followed (it loads lazily, after both modules exist).
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const STATIC_IMPORT =
  /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Whether the clause between import/export and `from` imports values (not only types). */
function loadsValues(kind: string, typeKeyword: string | undefined, clause: string): boolean {
  if (typeKeyword) return false;
  const braces = /^\{([\s\S]*)\}$/.exec(clause.trim());
  if (!braces) return true; // default import, namespace import, export * — all load the module
  const specs = braces[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (specs.length === 0) return kind === 'import'; // `import {} from` still runs the module
  return specs.some((s) => !s.startsWith('type '));
}

/** Runtime imports of one file, as absolute paths of the .ts files they resolve to (relative imports only). */
export function runtimeImports(file: string, withTypes = false): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const out: string[] = [];
  for (const m of text.matchAll(STATIC_IMPORT)) {
    const spec = m[4] ?? m[5];
    if (!spec.startsWith('.')) continue;
    if (m[4] && !withTypes && !loadsValues(m[1], m[2], m[3])) continue;
    const base = resolve(dirname(file), spec);
    const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
    const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile());
    if (hit) out.push(hit);
  }
  return out;
}

/** Every strongly connected group of more than one module (or a module importing itself), as relative paths. */
export function importCycles(root: string): string[][] {
  const files = sourceFiles(root);
  const graph = new Map(files.map((f) => [f, runtimeImports(f)]));
  return cyclesOf(graph).map((g) => g.map((f) => relative(root, f)).sort());
}

/**
 * Cycles between the top-level folders of `root` (each file directly in `root` is a node of its own), type imports
 * included: a folder is a concern, and two concerns that know each other's types are one concern in two places.
 */
export function folderCycles(root: string): string[][] {
  const nodeOf = (f: string) => relative(root, f).split('/')[0];
  const graph = new Map<string, string[]>();
  for (const f of sourceFiles(root)) {
    const from = nodeOf(f);
    const list = graph.get(from) ?? [];
    for (const t of runtimeImports(f, true)) if (nodeOf(t) !== from && !list.includes(nodeOf(t))) list.push(nodeOf(t));
    graph.set(from, list);
  }
  return cyclesOf(graph).map((g) => g.sort());
}

function cyclesOf(graph: Map<string, string[]>): string[][] {
  const files = [...graph.keys()];
  // Tarjan's strongly connected components, iteratively (deep graphs must not overflow the stack).
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const groups: string[][] = [];
  for (const start of files) {
    if (idx.has(start)) continue;
    const work: Array<{ v: string; i: number }> = [{ v: start, i: 0 }];
    idx.set(start, index);
    low.set(start, index);
    index++;
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1];
      const edges = graph.get(top.v) ?? [];
      if (top.i < edges.length) {
        const w = edges[top.i++];
        if (!graph.has(w)) continue;
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index);
          index++;
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(top.v, Math.min(low.get(top.v)!, idx.get(w)!));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) === idx.get(top.v)) {
        const group: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          group.push(w);
        } while (w !== top.v);
        if (group.length > 1 || (graph.get(top.v) ?? []).includes(top.v)) groups.push(group);
      }
    }
  }
  return groups;
}
