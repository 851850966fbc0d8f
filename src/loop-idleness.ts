// Background work that must not compete with a burst (a join storm) waits until the event loop is mostly idle:
// drawing anonymous viewers' avatars ahead, compressing the web chat's files ahead. Idleness is the share of time the
// loop spent running callbacks since the last look (Node's event loop utilization), so it costs nothing to ask.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Below this share of busy time the loop counts as idle. */
export const IDLE_BELOW = 0.5;

/**
 * Under `node --cpu-prof` the loop's utilization reads ~0.8 on an idle loop (V8's profiler samples it), and idle
 * work never ran: there the process's share of a core says how busy it was instead. Not in general: a busy loop
 * that the machine starves of CPU (a PeerTube host transcoding) uses little CPU, and is still busy.
 */
const PROFILED = process.execArgv.some((a) => a === '--cpu-prof' || a.startsWith('--cpu-prof='));

/** How busy the event loop was between two looks. */
export class LoopIdleness {
  private last: EventLoopUtilization = performance.eventLoopUtilization();
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();

  /** The share of the time since the last look (0–1) the loop was busy; starts a new interval. */
  busyShare(): number {
    const since = performance.eventLoopUtilization(this.last);
    this.last = performance.eventLoopUtilization();
    if (!PROFILED) return since.utilization;
    const now = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedMs = now - this.lastAt;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    return elapsedMs > 0 ? Math.min(1, (cpu.user + cpu.system) / 1000 / elapsedMs) : since.utilization;
  }

  /** Whether the loop was busy less than IDLE_BELOW of the time since the last look (which starts a new interval). */
  wasIdle(): boolean {
    return this.busyShare() < IDLE_BELOW;
  }
}

export interface WhenIdleOptions {
  /** The earliest start, in ms from now. */
  afterMs: number;
  /** How often to look again while the loop is busy, in ms (default 1000). */
  everyMs?: number;
  /** Runs anyway this long after the earliest start, in ms (default 5 minutes): it must happen some time. */
  latestMs?: number;
}

/**
 * Runs `fn` once, no sooner than `afterMs` from now, in the first `everyMs` interval after that in which the event
 * loop was idle. Returns a cancel function. The timers never keep the process alive.
 */
export function whenIdle(fn: () => void, opts: WhenIdleOptions): () => void {
  const every = opts.everyMs ?? 1000;
  const deadline = performance.now() + opts.afterMs + (opts.latestMs ?? 300_000);
  const idleness = new LoopIdleness();
  let timer: NodeJS.Timeout;
  const later = (f: () => void, ms: number) => {
    timer = setTimeout(f, ms);
    timer.unref();
  };
  const look = () => {
    if (idleness.wasIdle() || performance.now() >= deadline) fn();
    else later(look, every);
  };
  // The first look judges the `every` ms just before it, not the whole wait.
  const lead = Math.min(every, opts.afterMs);
  later(() => {
    idleness.wasIdle();
    later(look, lead);
  }, opts.afterMs - lead);
  return () => clearTimeout(timer);
}
