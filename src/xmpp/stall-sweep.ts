// The periodic sweep behind every idle check (c2s and S2S). While the event loop is stalled (a long GC, a CPU-bound
// burst, a join storm) the sweep runs late and no peer's data can be read either: the lateness is the server's, not
// the peers' silence. The sweep measures it so the checks can move their peers' clocks forward by it.

/** Calls `sweep` every `everyMs` with the time the call came later than planned (0 when on time). */
export function startStallAwareSweep(everyMs: number, sweep: (now: number, stalledMs: number) => void): () => void {
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    const stalledMs = Math.max(0, now - last - everyMs);
    last = now;
    sweep(now, stalledMs);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** A peer's timestamp with a stall of `stalledMs` excused: moved forward by it, never past `now`. */
export function excused(at: number, stalledMs: number, now: number): number {
  return Math.min(now, at + stalledMs);
}
