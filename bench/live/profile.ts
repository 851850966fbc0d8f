// Splits a V8 CPU profile of the server (node --cpu-prof) by phase and lists each phase's top functions by self
// time. Profile timestamps are V8 ticks in µs of the monotonic clock, the clock process.hrtime reads, so phase
// boundaries recorded with monoMicros() in the harness line up with the server's samples.
import { readFile } from 'node:fs/promises';

export function monoMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A package's own path for dependencies (ltx/lib/escaping.js), the last two segments for ours (xmpp/xml.js). */
function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  return url.split('/').slice(-2).join('/');
}

export interface Hotspot {
  fn: string; // function name and where it is (file:line, file name only)
  selfMs: number;
  pct: number; // of the phase's busy samples (idle excluded)
}

export interface PhaseProfile {
  phase: string;
  busyMs: number; // sampled time the server was not idle
  idleMs: number;
  top: Hotspot[];
  /** Busy time by what the server was doing (KINDS), largest first. */
  kinds: Array<{ kind: string; ms: number; pct: number }>;
}

/**
 * What a sample was spent on: the handler on its stack (by source file or function name), else the stage it was in
 * (parsing, the writes leaving at the end of a tick or of a coalescing window, accepting connections, ws reading
 * frames). A renamed file shows up as "other".
 */
const KINDS: Array<[kind: string, test: (fn: string, file: string) => boolean]> = [
  ['iq to an occupant (vCards)', (fn) => fn === 'occupantIq'],
  ['room message (fan-out)', (_, f) => f.endsWith('muc/room-messages.js')],
  ['vCard of an account', (_, f) => f.endsWith('handlers/vcard.js')],
  ['MAM query', (_, f) => f.includes('/mam/') || f.endsWith('features/mam.js')],
  ['disco', (_, f) => f.includes('disco')],
  ['presence (join, leave)', (_, f) => f.endsWith('c2s/presence.js')],
  [
    'login (upgrade, SASL, bind, roster, carbons)',
    (fn, f) =>
      f.includes('/sasl/') ||
      /^(handleUpgrade|streamOpened|preBind|openReply|sendFeatures)$/.test(fn) ||
      /handlers\/(roster|carbons|legacy-session)\.js$/.test(f),
  ],
];
const STAGES: Array<[kind: string, test: (fn: string, file: string) => boolean]> = [
  ['parsing (no handler reached)', (_, f) => f.includes('/saxes/') || f.endsWith('xml-stream.js')],
  ['writes at the end of a tick', (fn) => fn === 'releaseTick' || fn === 'Writable.uncork'],
  ['writes at the end of a window', (fn) => fn === 'releaseWindow'],
  ['avatars drawn ahead (the stock)', (_, f) => f.endsWith('avatars/drawn-ahead.js')],
  [
    'accepting connections (TCP, HTTP)',
    (fn, f) => (f === 'node:net' && fn === 'onconnection') || f === 'node:_http_server' || f === 'node:_http_common',
  ],
  ['ws frame reading', (_, f) => f.endsWith('ws/lib/receiver.js')],
];

export async function phaseHotspots(
  file: string,
  phases: Array<{ label: string; monoStart: number; monoEnd: number }>,
  topN = 8,
): Promise<PhaseProfile[]> {
  const prof = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const names = new Map<number, string>();
  for (const n of prof.nodes) {
    const f = n.callFrame;
    const where = f.url ? ` ${shortUrl(f.url)}:${f.lineNumber + 1}` : '';
    names.set(n.id, `${f.functionName || '(anonymous)'}${where}`);
  }
  const out: PhaseProfile[] = phases.map((p) => ({ phase: p.label, busyMs: 0, idleMs: 0, top: [], kinds: [] }));
  const self = phases.map(() => new Map<string, number>());
  // Each node's kind, resolved once per node from its stack.
  const parent = new Map<number, number>();
  const byId = new Map<number, CpuProfile['nodes'][number]>();
  for (const n of prof.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const kindOf = new Map<number, string>();
  const classify = (id: number): string => {
    let k = kindOf.get(id);
    if (k !== undefined) return k;
    const frames: Array<[string, string]> = [];
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const f = byId.get(x)!.callFrame;
      frames.push([f.functionName, f.url]);
    }
    // The handler nearest the root (a join's hooks run other features' code); the stage nearest the leaf (a
    // message is parsed under ws's frame reading).
    for (let f = frames.length - 1; f >= 0 && !k; f--) k = KINDS.find(([, test]) => test(...frames[f]!))?.[0];
    for (let f = 0; f < frames.length && !k; f++) k = STAGES.find(([, test]) => test(...frames[f]!))?.[0];
    k ??= frames[0]![0] === '(garbage collector)' ? 'garbage collector' : 'other';
    kindOf.set(id, k);
    return k;
  };
  const kinds = phases.map(() => new Map<string, number>());
  let t = prof.startTime;
  let k = 0; // phases are in time order, and so are samples
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i] ?? 0;
    const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000; // this sample stands for the time until the next one
    while (k < phases.length && t > phases[k]!.monoEnd) k++;
    if (k >= phases.length) break;
    if (t < phases[k]!.monoStart) continue;
    const name = names.get(prof.samples[i]!) ?? '?';
    if (name.startsWith('(idle)')) {
      out[k]!.idleMs += dt;
      continue;
    }
    out[k]!.busyMs += dt;
    self[k]!.set(name, (self[k]!.get(name) ?? 0) + dt);
    const kind = classify(prof.samples[i]!);
    kinds[k]!.set(kind, (kinds[k]!.get(kind) ?? 0) + dt);
  }
  for (let p = 0; p < phases.length; p++) {
    const busy = out[p]!.busyMs;
    out[p]!.top = [...self[p]!]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([fn, ms]) => ({ fn, selfMs: ms, pct: busy ? (ms / busy) * 100 : 0 }));
    out[p]!.kinds = [...kinds[p]!]
      .sort((a, b) => b[1] - a[1])
      .map(([kind, ms]) => ({ kind, ms, pct: busy ? (ms / busy) * 100 : 0 }));
  }
  return out;
}

export function formatHotspots(target: string, profiles: PhaseProfile[]): string {
  const lines: string[] = [];
  for (const p of profiles) {
    lines.push(
      `${target}, "${p.phase}": top functions by self time (${p.busyMs.toFixed(0)} ms busy sampled, ${p.idleMs.toFixed(0)} ms idle)`,
    );
    for (const h of p.top)
      lines.push(`  ${h.pct.toFixed(1).padStart(5)}%  ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.fn}`);
    if (p.busyMs) lines.push(`  by what it was doing (the whole stack below each handler counts):`);
    for (const c of p.kinds)
      if (c.pct >= 0.5) lines.push(`  ${c.pct.toFixed(1).padStart(5)}%  ${c.ms.toFixed(0).padStart(7)} ms  ${c.kind}`);
  }
  return lines.join('\n');
}
