// Splits a V8 CPU profile of the server (node --cpu-prof) by phase and lists each phase's top functions by self
// time. Profile timestamps are V8 ticks in µs of the monotonic clock, the clock process.hrtime reads, so phase
// boundaries recorded with monoMicros() in the harness line up with the server's samples.
import { readFile } from 'node:fs/promises';

export function monoMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
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
}

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
  const out: PhaseProfile[] = phases.map((p) => ({ phase: p.label, busyMs: 0, idleMs: 0, top: [] }));
  const self = phases.map(() => new Map<string, number>());
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
  }
  for (let p = 0; p < phases.length; p++) {
    const busy = out[p]!.busyMs;
    out[p]!.top = [...self[p]!]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([fn, ms]) => ({ fn, selfMs: ms, pct: busy ? (ms / busy) * 100 : 0 }));
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
  }
  return lines.join('\n');
}
