// A hand-written SVG: three stacked panels over time since the first phase — latency (log scale), server CPU,
// occupants in the room — with one colour per target and phase boundaries marked.
import type { TargetResult, TimePoint } from './run.js';

const COLORS: Record<string, string> = {
  ours: '#1f6feb',
  prosody: '#d9480f',
  'ours-all': '#2da44e',
  'ours-tick': '#8250df',
};
const W = 960;
const PANEL_H = 200;
const LEFT = 70;
const RIGHT = 20;
const TOP = 40;
const GAP = 50;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

interface Panel {
  title: string;
  log: boolean;
  series: Array<{ target: string; dash: string; pick: (p: TimePoint) => number; label: string }>;
}

export function chart(results: TargetResult[], title: string): string {
  const panels: Panel[] = [
    {
      title:
        'latency per 0.5 s (ms, log scale): solid = delivery p95, dashed = join-to-history p95, dotted = nick change p95',
      log: true,
      series: results.flatMap((r) => [
        { target: r.target, dash: '', pick: (p: TimePoint) => p.deliveryP95, label: `${r.target} delivery p95` },
        { target: r.target, dash: '6 4', pick: (p: TimePoint) => p.joinP95, label: `${r.target} join p95` },
        { target: r.target, dash: '2 3', pick: (p: TimePoint) => p.nickP95, label: `${r.target} nick change p95` },
      ]),
    },
    {
      title: 'server CPU (% of one core), dotted = harness CPU',
      log: false,
      series: results.flatMap((r) => [
        { target: r.target, dash: '', pick: (p: TimePoint) => p.serverCpuPct, label: `${r.target} server` },
        { target: r.target, dash: '2 3', pick: (p: TimePoint) => p.harnessCpuPct, label: `${r.target} harness` },
      ]),
    },
    {
      title: 'viewers in the room',
      log: false,
      series: results.map((r) => ({ target: r.target, dash: '', pick: (p: TimePoint) => p.joined, label: r.target })),
    },
  ];
  const tMax = Math.max(1, ...results.flatMap((r) => r.timeline.map((p) => p.t)));
  const H = TOP + panels.length * (PANEL_H + GAP) + 20;
  const plotW = W - LEFT - RIGHT;
  const x = (t: number): number => LEFT + (t / tMax) * plotW;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${LEFT}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`);
  // legend
  let lx = W - RIGHT;
  for (const r of [...results].reverse()) {
    lx -= 90;
    out.push(`<rect x="${lx}" y="10" width="14" height="4" fill="${COLORS[r.target] ?? '#444'}"/>`);
    out.push(`<text x="${lx + 18}" y="16">${esc(r.target)}</text>`);
  }
  panels.forEach((panel, i) => {
    const y0 = TOP + i * (PANEL_H + GAP) + 16;
    const values = panel.series
      .flatMap((s) => results.filter((r) => r.target === s.target).flatMap((r) => r.timeline.map(s.pick)))
      .filter((v) => Number.isFinite(v) && (!panel.log || v > 0));
    let lo = panel.log ? Math.max(0.1, Math.min(...values, 1)) : 0;
    let hi = Math.max(...values, panel.log ? 10 : 1);
    if (panel.log) {
      lo = 10 ** Math.floor(Math.log10(lo));
      hi = 10 ** Math.ceil(Math.log10(hi));
    } else hi *= 1.05;
    const y = (v: number): number => {
      const f = panel.log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo);
      return y0 + PANEL_H - Math.max(0, Math.min(1, f)) * PANEL_H;
    };
    out.push(`<text x="${LEFT}" y="${y0 - 6}" font-weight="bold">${esc(panel.title)}</text>`);
    out.push(`<rect x="${LEFT}" y="${y0}" width="${plotW}" height="${PANEL_H}" fill="none" stroke="#999"/>`);
    // y ticks
    const ticks: number[] = [];
    if (panel.log) for (let v = lo; v <= hi * 1.001; v *= 10) ticks.push(v);
    else for (let k = 0; k <= 4; k++) ticks.push(lo + ((hi - lo) * k) / 4);
    for (const v of ticks) {
      out.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
      out.push(
        `<text x="${LEFT - 4}" y="${y(v) + 4}" text-anchor="end">${v >= 100 || panel.log ? Math.round(v) : v.toFixed(1)}</text>`,
      );
    }
    // x ticks every ~tMax/10 s
    const step = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 1200].find((n) => tMax / n <= 12) ?? 3600;
    for (let t = 0; t <= tMax; t += step) {
      out.push(`<text x="${x(t)}" y="${y0 + PANEL_H + 14}" text-anchor="middle">${t}s</text>`);
    }
    // phase boundaries (per target, thin, in its colour)
    for (const [ri, r] of results.entries()) {
      let prev = '';
      for (const p of r.timeline) {
        if (p.phase && p.phase !== prev) {
          out.push(
            `<line x1="${x(p.t)}" x2="${x(p.t)}" y1="${y0}" y2="${y0 + PANEL_H}" stroke="${COLORS[r.target] ?? '#444'}" stroke-opacity="0.3"/>`,
          );
          if (i === 0)
            out.push(
              `<text x="${x(p.t) + 2}" y="${y0 + 10 + ri * 11}" fill="${COLORS[r.target] ?? '#444'}" font-size="9">${esc(p.phase)}</text>`,
            );
          prev = p.phase;
        }
      }
    }
    for (const s of panel.series) {
      const r = results.find((q) => q.target === s.target);
      if (!r) continue;
      // break the line where there is no value (e.g. no joins completed in that half second)
      let d = '';
      let pen = false;
      for (const p of r.timeline) {
        const v = s.pick(p);
        if (!Number.isFinite(v) || (panel.log && v <= 0)) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      }
      if (d) {
        out.push(
          `<path d="${d}" fill="none" stroke="${COLORS[s.target] ?? '#444'}" stroke-width="1.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}><title>${esc(s.label)}</title></path>`,
        );
      }
    }
  });
  out.push('</svg>');
  return out.join('\n');
}
