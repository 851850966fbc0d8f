// Turns per-target results into the side-by-side table (with the ours/Prosody ratio) printed and saved.
import { summarize } from './stats.js';
import { SATURATED_PCT, type PhaseResult, type TargetResult } from './run.js';

/** Errors that say nothing about the server under load: the room simply has no vCard set. */
const benign = (kind: string): boolean => kind.startsWith('iq-error:vcard-room:');

export interface Row {
  section: string;
  metric: string;
  unit: string;
  better: 'lower' | 'higher' | '';
  values: Record<string, number>; // target → value
}

function errorsOf(phases: PhaseResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of phases) for (const [k, v] of Object.entries(p.errors)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Metric rows for one target; the same rows in the same order for every target so they line up. */
export function metrics(r: TargetResult): Row[] {
  const rows: Row[] = [];
  const add = (section: string, metric: string, unit: string, better: Row['better'], v: number): void => {
    rows.push({ section, metric, unit, better, values: { [r.target]: v } });
  };
  const edgeTotal = r.phases.reduce((s, p) => s + p.edgeCpu, 0);
  const hasEdge = edgeTotal > 0;
  for (const p of r.phases) {
    const secs = (p.endAt - p.startAt) / 1000;
    const s = p.label;
    // the load generator's own limit, first in each phase: a saturated worker makes the other rows suspect
    add(s, 'busiest client worker CPU, peak 1 s', '% core', '', p.workerPeakPct);
    // with "everyone sees everyone" joins, leaves and nick changes cost N² presences: count them
    if (p.kind !== 'chat') add(s, 'room presences delivered', '', 'lower', p.presences);
    // Each is a frame the server reads (an <r/> of a viewer's, or a viewer's <a/> to one of the server's): rows only
    // where viewers use stream management, which Prosody as livechat configures it does not offer.
    if (p.smRequestsSent > 0) add(s, 'ack requests from viewers (XEP-0198)', '', '', p.smRequestsSent);
    if (p.smRequestsSent > 0) add(s, 'ack requests from the server (XEP-0198)', '', 'lower', p.smRequestsReceived);
    if (p.kind === 'join') {
      const j = summarize(p.samples.joinToHistory);
      const ph = summarize(p.samples.presenceToHistory);
      const login = summarize(p.samples.connect);
      const opened = summarize(p.samples.opened);
      const authed = summarize(p.samples.authed);
      const pre = summarize(p.samples.preJoin);
      const mam = summarize(p.samples.mam);
      const vc = summarize(p.samples.vcard);
      add(s, 'viewers who got history', '', 'higher', j.n);
      add(s, 'last viewer got history after', 's', 'lower', p.lastJoinAt ? (p.lastJoinAt - p.startAt) / 1000 : NaN);
      // seated: the join's presences and the room subject arrived (the viewer is in the room, history comes next)
      const seated = summarize(p.samples.joinToSeated);
      add(s, 'last viewer seated after', 's', 'lower', p.lastSeatedAt ? (p.lastSeatedAt - p.startAt) / 1000 : NaN);
      add(s, 'join-to-seated p99', 'ms', 'lower', seated.p99);
      add(s, 'join-to-history p50', 'ms', 'lower', j.p50);
      add(s, 'join-to-history p95', 'ms', 'lower', j.p95);
      add(s, 'join-to-history p99', 'ms', 'lower', j.p99);
      // where a join's time goes: login, the pre-join requests, then the join itself
      add(s, 'login (connect to bound) p50', 'ms', 'lower', login.p50);
      add(s, 'login (connect to bound) p95', 'ms', 'lower', login.p95);
      add(s, '… connect to transport open p95', 'ms', 'lower', opened.p95);
      add(s, '… transport open to SASL success p95', 'ms', 'lower', authed.p95);
      add(s, 'pre-join requests (bound to join presence) p95', 'ms', 'lower', pre.p95);
      add(s, 'join presence-to-history p95', 'ms', 'lower', ph.p95);
      add(s, 'MAM last-50 p95', 'ms', 'lower', mam.p95);
      add(s, 'vCard round trip p50', 'ms', 'lower', vc.p50);
      add(s, 'vCard round trip p95', 'ms', 'lower', vc.p95);
      add(s, 'vCards received', '', '', p.vcards);
      add(s, 'vCards with a PHOTO', '', '', p.vcardPhotos);
      add(s, 'last vCard answered after', 's', 'lower', p.lastVcardAt ? (p.lastVcardAt - p.startAt) / 1000 : NaN);
      add(s, 'vCard bytes received', 'MB', 'lower', p.vcardBytes / 1e6);
      add(s, 'vCard bytes per viewer', 'KB', 'lower', r.viewers ? p.vcardBytes / r.viewers / 1e3 : NaN);
      add(s, 'phase length (until vCards settle)', 's', 'lower', secs);
      add(s, 'server CPU', 's', 'lower', p.serverCpu);
      add(s, '… of which its main thread', 's', 'lower', p.serverMainCpu);
      add(s, 'server CPU in the kernel (system time)', '%', '', (p.serverSystemCpu / p.serverCpu) * 100);
      add(s, 'server waiting for a CPU (run queue)', 's', 'lower', p.serverRunQueueWait);
      add(s, 'server page faults (minor)', '', '', p.serverMinorFaults);
      // its own helpers (the web chat's compression, a certificate), not in "server CPU" nor in "other programs"
      add(s, 'server child processes CPU (not the edge)', 's', 'lower', p.childCpu);
      add(s, 'server write syscalls per viewer', '', 'lower', r.viewers ? p.serverWrites / r.viewers : NaN);
    } else if (p.kind === 'chat') {
      const d = summarize(p.samples.delivery);
      add(s, 'messages sent', '', '', p.sent);
      add(s, 'deliveries', '', 'higher', p.deliveries);
      add(s, 'deliveries/s (over the sending window)', '/s', 'higher', p.deliveries / (p.plannedMs / 1000 || secs));
      add(s, 'delivery latency p50', 'ms', 'lower', d.p50);
      add(s, 'delivery latency p95', 'ms', 'lower', d.p95);
      add(s, 'delivery latency p99', 'ms', 'lower', d.p99);
      add(s, 'server CPU', 's', 'lower', p.serverCpu);
      add(s, '… of which its main thread', 's', 'lower', p.serverMainCpu);
      add(s, 'server CPU per delivery', 'µs', 'lower', p.deliveries ? (p.serverCpu / p.deliveries) * 1e6 : NaN);
      // Where a delivery's CPU goes: the kernel's share (loopback socket writes) and how many writes it took.
      add(s, 'server CPU in the kernel (system time)', '%', '', (p.serverSystemCpu / p.serverCpu) * 100);
      add(s, 'server write syscalls per delivery', '', 'lower', p.deliveries ? p.serverWrites / p.deliveries : NaN);
      // How often the main thread slept and was woken, and what that alone costs at this machine's price of a
      // wake-up (an idle node process's, measured at the start of the run: wake-cost.ts).
      add(s, 'server main thread wake-ups per message', '', 'lower', p.sent ? p.serverWakeups / p.sent : NaN);
      add(
        s,
        '… at the price of an idle wake-up, per delivery',
        'µs',
        'lower',
        p.deliveries ? (p.serverWakeups * r.wakeCostMicros) / p.deliveries : NaN,
      );
      add(s, 'server waiting for a CPU (run queue)', 's', 'lower', p.serverRunQueueWait);
      add(s, 'server page faults (minor)', '', '', p.serverMinorFaults);
      // its own helpers (the web chat's compression, a certificate), not in "server CPU" nor in "other programs"
      add(s, 'server child processes CPU (not the edge)', 's', 'lower', p.childCpu);
      // websocket.edge = process: the main process above, its WebSocket edge child here (blank when none ran)
      const edge = hasEdge ? p.edgeCpu : NaN;
      add(s, 'edge process CPU', 's', 'lower', edge);
      add(s, 'edge process CPU per delivery', 'µs', 'lower', p.deliveries ? (edge / p.deliveries) * 1e6 : NaN);
      const writes = hasEdge ? p.edgeWrites : NaN;
      add(s, 'edge process write syscalls/s', '/s', 'lower', writes / secs);
      add(s, 'edge process write syscalls per delivery', '', 'lower', p.deliveries ? writes / p.deliveries : NaN);
      add(
        s,
        'server + edge CPU per delivery',
        'µs',
        'lower',
        p.deliveries && hasEdge ? ((p.serverCpu + p.edgeCpu) / p.deliveries) * 1e6 : NaN,
      );
    } else if (p.kind === 'nick') {
      const n = summarize(p.samples.nick);
      add(s, 'nick changes confirmed', '', 'higher', n.n);
      add(s, 'nick change p50', 'ms', 'lower', n.p50);
      add(s, 'nick change p95', 'ms', 'lower', n.p95);
      add(s, 'nick change p99', 'ms', 'lower', n.p99);
      add(s, 'vCards received', '', '', p.vcards);
      add(s, 'server CPU', 's', 'lower', p.serverCpu);
      add(s, 'server write syscalls per viewer', '', 'lower', r.viewers ? p.serverWrites / r.viewers : NaN);
    } else {
      add(s, 'server CPU', 's', 'lower', p.serverCpu);
      add(s, 'server write syscalls per viewer', '', 'lower', r.viewers ? p.serverWrites / r.viewers : NaN);
    }
  }
  const errs = errorsOf(r.phases);
  let errors = 0;
  let timeouts = 0;
  for (const [k, v] of Object.entries(errs)) {
    if (benign(k)) continue;
    if (k.startsWith('late-answer:')) continue; // already counted as a timeout
    if (k.includes('timeout')) timeouts += v;
    else errors += v;
  }
  const wall = r.phases.reduce((s, p) => s + (p.endAt - p.startAt), 0) / 1000;
  const harness = r.phases.reduce((s, p) => s + p.harnessCpu, 0);
  const payload = r.phases.reduce((s, p) => s + p.payloadBytes, 0);
  add('whole run', 'errors (not timeouts)', '', 'lower', errors);
  add('whole run', 'timeouts', '', 'lower', timeouts);
  add('whole run', 'listen-queue overflows (kernel, whole machine)', '', 'lower', r.listenOverflows);
  add(
    'whole run',
    'server CPU',
    's',
    'lower',
    r.phases.reduce((s, p) => s + p.serverCpu, 0),
  );
  add('whole run', 'edge process CPU', 's', 'lower', hasEdge ? edgeTotal : NaN);
  add('whole run', 'server peak RSS', 'MB', 'lower', r.peakRssMB);
  // websocket.edge = process: the edge child is a process of its own, with its own peak (blank when none ran)
  add('whole run', 'edge process peak RSS', 'MB', 'lower', r.edgePeakRssMB);
  add(
    'whole run',
    'bytes to clients per viewer (wire)',
    'MB',
    'lower',
    r.viewers ? r.wireBytes / r.viewers / 1e6 : NaN,
  );
  add('whole run', 'bytes to clients per viewer (payload)', 'MB', 'lower', r.viewers ? payload / r.viewers / 1e6 : NaN);
  add('whole run', 'harness CPU (orchestrator + client workers)', 's', '', harness);
  add('whole run', 'harness CPU, mean', '% core', '', wall ? (harness / wall) * 100 : NaN);
  add(
    'whole run',
    'harness CPU, peak 0.5 s',
    '% core',
    '',
    Math.max(0, ...r.timeline.map((t) => t.harnessCpuPct).filter(Number.isFinite)),
  );
  const others = r.timeline.map((t) => t.otherCpuPct).filter(Number.isFinite);
  add(
    'whole run',
    'other programs on the machine, mean',
    '% core',
    '',
    others.length ? others.reduce((a, b) => a + b, 0) / others.length : NaN,
  );
  return rows;
}

/** Rows of all targets merged by (section, metric). */
export function mergeRows(results: TargetResult[]): Row[] {
  const out: Row[] = [];
  const key = (r: Row): string => r.section + '\u0000' + r.metric;
  const index = new Map<string, Row>();
  for (const res of results) {
    for (const row of metrics(res)) {
      const k = key(row);
      const have = index.get(k);
      if (have) Object.assign(have.values, row.values);
      else {
        index.set(k, row);
        out.push(row);
      }
    }
  }
  return out;
}

export function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100 || Number.isInteger(v)) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a === 0) return '0';
  return v.toPrecision(2);
}

export interface Table {
  text: string; // fixed-width, for the terminal
  markdown: string; // for the README
  slower: string[]; // metrics where ours is worse than the baseline (Prosody, or ours-all)
}

/** The ratio column: ours against Prosody, or else against ours with every presence broadcast ('all'), or else against ours without write coalescing. */
function baselineOf(names: string[]): string | undefined {
  if (!names.includes('ours')) return undefined;
  return ['prosody', 'ours-all', 'ours-tick'].find((n) => names.includes(n));
}

export function table(results: TargetResult[]): Table {
  const rows = mergeRows(results);
  const names = results.map((r) => r.target);
  const base = baselineOf(names);
  const both = base !== undefined;
  const header = ['phase', 'metric', 'unit', ...names, ...(both ? [`ours/${base}`] : [])];
  const lines: string[][] = [];
  const slower: string[] = [];
  for (const r of rows) {
    const cells = [r.section, r.metric, r.unit, ...names.map((n) => fmt(r.values[n]))];
    if (both) {
      const o = r.values.ours;
      const p = r.values[base!];
      let ratio = '–';
      const known = o !== undefined && p !== undefined && Number.isFinite(o) && Number.isFinite(p);
      if (known && p !== 0) {
        const q = o / p;
        ratio = q === 0 ? '0' : q < 0.01 ? q.toPrecision(2) : q.toFixed(q >= 10 || q < 0.1 ? 3 : 2);
        const worse = (r.better === 'lower' && o > p * 1.05) || (r.better === 'higher' && o < p * 0.95);
        if (worse) {
          ratio += ' (worse)';
          slower.push(`${r.section}: ${r.metric}`);
        }
      } else if (known && p === 0 && o !== 0) {
        ratio = '∞';
        if (r.better === 'lower') {
          ratio += ' (worse)';
          slower.push(`${r.section}: ${r.metric}`);
        }
      } else if (r.better && p !== undefined && Number.isFinite(p) && (o === undefined || !Number.isFinite(o))) {
        slower.push(`${r.section}: ${r.metric} (no value for ours)`);
      }
      cells.push(ratio);
    }
    lines.push(cells);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const pad = (cells: string[]): string =>
    cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const text = [pad(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(pad)].join('\n');
  const md = [
    '| ' + header.join(' | ') + ' |',
    '|' + header.map((_, i) => (i < 3 ? ' --- ' : ' ---: ')).join('|') + '|',
    ...lines.map((l) => '| ' + l.join(' | ') + ' |'),
  ].join('\n');
  return { text, markdown: md, slower };
}

/**
 * Whether the vCard work compares like for like: every target must embed an avatar (PHOTO) in nearly all the
 * vCards it answers. Returns a CAVEAT when one does and another does not, otherwise a note with the mean answer
 * sizes (the avatars themselves may differ in size: that is what each server chooses to hand out).
 */
export function vcardCaveat(results: TargetResult[]): string {
  const stats = results
    .map((r) => {
      const n = r.phases.reduce((s, p) => s + p.vcards, 0);
      const photos = r.phases.reduce((s, p) => s + p.vcardPhotos, 0);
      const bytes = r.phases.reduce((s, p) => s + p.vcardBytes, 0);
      return { t: r.target, n, share: n ? photos / n : NaN, mean: n ? bytes / n : NaN };
    })
    .filter((x) => x.n > 0);
  if (stats.length < 2) return '';
  const sizes = stats
    .map((x) => `${x.t} ${Math.round(x.mean)} B, ${(x.share * 100).toFixed(1)}% with a PHOTO`)
    .join('; ');
  const withPhotos = stats.filter((x) => x.share >= 0.9);
  if (withPhotos.length === stats.length)
    return `vCards like for like: every target embeds an avatar in its vCard answers (mean answer: ${sizes})`;
  if (withPhotos.length === 0) return `vCards like for like: no target embeds avatars (mean answer: ${sizes})`;
  return `CAVEAT: only some targets embed an avatar in their vCards (${sizes}): vCard, join and CPU rows are not like for like`;
}

/** One line per phase where a client worker passed SATURATED_PCT: then the clients, not the server, may be the limit. */
export function saturationNotes(results: TargetResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    for (const p of r.phases) {
      if (p.saturated.length) {
        out.push(
          `LOAD GENERATOR SATURATED: ${r.target}, "${p.label}": ${p.saturated.join(', ')} (over ${SATURATED_PCT}% of a core): figures of this phase may measure the clients; rerun with more --workers`,
        );
      }
    }
  }
  if (!out.length && results.length) {
    const peak = Math.max(0, ...results.flatMap((r) => r.phases.map((p) => p.workerPeakPct)));
    out.push(
      `load generator never saturated: busiest client worker peaked at ${peak.toFixed(0)}% of a core (limit ${SATURATED_PCT}%)`,
    );
  }
  return out;
}

export function errorBreakdown(results: TargetResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    const errs = errorsOf(r.phases);
    const list = Object.entries(errs).sort((a, b) => b[1] - a[1]);
    out.push(`${r.target}: ${list.length ? list.map(([k, v]) => `${k} ×${v}`).join(', ') : 'no errors'}`);
    if (r.failure) out.push(`${r.target}: run failed: ${r.failure}`);
  }
  return out;
}
