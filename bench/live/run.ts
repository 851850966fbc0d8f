// Runs one scenario against one running target: a streamer who owns the room, client worker processes for the
// viewers, /proc sampling of the server, each worker's CPU (with a warning when one saturates, as then the load
// generator and not the server may be the limit), and per-phase accumulation of everything the workers report.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type {
  ClientEndpoint,
  FromWorker,
  Phase,
  SampleBatch,
  ToWorker,
  ViewerOptions,
  WorkerReport,
  WorkerWarmed,
} from './messages.js';
import { emptySamples } from './messages.js';
import {
  edgeCpuSeconds,
  childrenCpuSeconds,
  edgePeakRssBytes,
  edgeWriteSyscalls,
  writeSyscalls,
  listenOverflows,
  machineBusySeconds,
  readProc,
  runQueueWaitSeconds,
  mainThreadWakeups,
  mainThreadCpuSeconds,
  socketQueues,
} from './procstat.js';
import type { PlannedPhase } from './scenarios.js';
import { append } from './stats.js';
import { monoMicros } from './profile.js';
import { Tally, Viewer, now } from './viewer.js';
import type { RunningTarget } from './targets/process.js';
import type { PhaseAllocations } from './alloc-profile.js';

const TICK_MS = 500;
const SETTLE_QUIET_MS = 1500; // no iq outstanding for this long = vCard fetches are over
const DRAIN_MS = 2000; // after the last chat message, deliveries still in flight are counted in the chat phase
/** A client worker above this share of one core (over ~1 s) may be what limits the run. */
export const SATURATED_PCT = 85;

export interface PhaseResult {
  label: string;
  /** With --alloc-prof: what our server allocated during the phase, by function. */
  allocations?: PhaseAllocations;
  kind: PlannedPhase['kind'];
  startAt: number;
  endAt: number;
  monoStart: number; // the same instants in µs of the monotonic clock, to cut the server's CPU profile by phase
  monoEnd: number;
  completed: boolean; // false if the deadline ended it
  plannedMs: number; // planned length (chat duration, join spread, nick window); 0 if unplanned
  serverCpu: number; // seconds
  /** The part of serverCpu its main thread spent (the rest: V8's compiler and GC helper threads, libuv's pool). */
  serverMainCpu: number;
  /** The part of serverCpu spent in the kernel on the server's behalf (system time). */
  serverSystemCpu: number;
  /** Seconds the server's main thread waited for a CPU while runnable (run queue), over the phase. */
  serverRunQueueWait: number;
  /** Minor page faults of the server over the phase: memory it touched for the first time (or again, once freed). */
  serverMinorFaults: number;
  /** Write syscalls of the server process itself (socket writes, and pipe writes to an edge process). */
  serverWrites: number;
  /** Times the server's main thread went to sleep and was woken (its voluntary context switches) over the phase. */
  serverWakeups: number;
  /** CPU seconds of the server's WebSocket edge child process, 0 without one. */
  edgeCpu: number;
  /**
   * CPU seconds of the server's other child processes (the web chat's compression, a certificate being made), NaN
   * where they cannot be read: the server's work, not other programs'.
   */
  childCpu: number;
  /** Write syscalls of the WebSocket edge process (socket writes, plus its pipe writes to the server). */
  edgeWrites: number;
  harnessCpu: number; // seconds, the orchestrator and all client worker processes
  workerCpu: number[]; // seconds, per client worker
  workerPeakPct: number; // the busiest worker's highest ~1 s CPU share during the phase, % of one core
  saturated: string[]; // "worker N at X%" for each worker that passed SATURATED_PCT during the phase
  samples: SampleBatch;
  deliveries: number;
  presences: number; // room presences received by all viewers
  sent: number;
  vcards: number;
  vcardBytes: number;
  vcardPhotos: number;
  /** XEP-0198 ack requests the viewers sent, and the server's they answered. */
  smRequestsSent: number;
  smRequestsReceived: number;
  /** When the phase's last vCard answer arrived (absolute ms, 0 if none). */
  lastVcardAt: number;
  payloadBytes: number;
  errors: Record<string, number>;
  joined: number; // viewers in the room at the end of the phase
  ready: number;
  lastJoinAt: number;
  lastSeatedAt: number;
}

export interface TimePoint {
  t: number; // seconds since the first phase started
  phase: string;
  serverCpuPct: number; // % of one core over the last tick
  harnessCpuPct: number;
  workerCpuPct: number[]; // each client worker's share of one core over its last ~1 s
  otherCpuPct: number; // everything else on the machine (other programs compete for the same cores), not the server's children
  rssMB: number;
  joined: number;
  deliveriesPerSec: number;
  mbPerSec: number; // payload received by all viewers
  outstandingIqs: number; // including those timed out at the client and still unanswered
  // Bytes clients sent that the server has not read yet, and written by the server not yet acknowledged. NaN while
  // a phase's clients are still at work: read only to know when the server has settled (each read costs the
  // harness a few ms of kernel time).
  serverRxQueue: number;
  serverTxQueue: number;
  deliveryP50: number;
  deliveryP95: number;
  joinP50: number; // join-to-history samples completed in this tick
  joinP95: number;
  nickP95: number;
}

export interface TargetResult {
  target: string;
  description: string;
  users: number;
  workers: number;
  phases: PhaseResult[];
  timeline: TimePoint[];
  peakRssMB: number;
  /** The WebSocket edge child's peak RSS (websocket.edge = process), NaN without one. */
  edgePeakRssMB: number;
  wireBytes: number;
  viewers: number;
  listenOverflows: number; // machine-wide kernel counter, delta over this target's run
  /** CPU an idle node process spends per wake-up on this machine, µs (RunConfig.wakeCostMicros), NaN if unknown. */
  wakeCostMicros: number;
  failure?: string;
}

export interface RunConfig {
  users: number;
  workers: number;
  viewer: ViewerOptions;
  seedMessages: number;
  phaseTimeoutMs: number; // upper bound for any single phase beyond its own planned length
  /**
   * Before the first phase, the client workers run a storm of this many viewers against a throwaway server that
   * `start` launches (and the run stops), so that the measured storms meet a load generator V8 has compiled.
   */
  warmUp?: { viewers: number; start: () => Promise<RunningTarget> };
  /** Run the client workers under `node --cpu-prof`, writing their profiles into this folder. */
  clientCpuProfDir?: string;
  /** What a wake-up costs an idle node process here (wake-cost.ts), measured once per run. */
  wakeCostMicros?: number;
  log: (s: string) => void;
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const a = Float64Array.from(values).sort();
  return a[Math.min(a.length - 1, Math.floor(q * a.length))]!;
}

function mergeSamples(into: SampleBatch, from: SampleBatch): void {
  for (const k of Object.keys(into) as Array<keyof SampleBatch>) append(into[k], from[k]);
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Starts the streamer, who creates the room (instant room if locked) and posts the messages history will show. */
async function startStreamer(endpoint: ClientEndpoint, cfg: RunConfig): Promise<{ viewer: Viewer; tally: Tally }> {
  const tally = new Tally();
  const viewer = new Viewer(-1, endpoint, { ...cfg.viewer, vcards: 'none' }, tally, 'streamer');
  viewer.createsRoom = true;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`streamer could not join: ${JSON.stringify(tally.errors)}`)),
      30_000,
    );
    viewer.start(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  await new Promise((r) => setTimeout(r, 300)); // let an instant-room configuration land
  for (let i = 0; i < cfg.seedMessages; i++) {
    viewer.sendChat(`seed.${i}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 500));
  return { viewer, tally };
}

/** Polls `cond` every 100 ms until it holds (true) or `deadline` (absolute ms) passes (its last answer). */
async function waitUntil(cond: () => boolean, deadline: number): Promise<boolean> {
  while (now() < deadline) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

/** Kills the client workers still running (only our own children). */
function killWorkers(workers: ChildProcess[]): void {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
}

/** Runs the workers' warm-up storm on a throwaway server (started and stopped here) and logs what it did. */
async function warmUpClients(cfg: RunConfig, workers: ChildProcess[], warmed: WorkerWarmed[]): Promise<void> {
  const { viewers, start } = cfg.warmUp!;
  const t0 = now();
  const spare = await start();
  try {
    const streamer = await startStreamer(spare.endpoint, cfg);
    for (const w of workers) w.send({ type: 'warm-up', endpoint: spare.endpoint, viewers } satisfies ToWorker);
    await waitUntil(() => warmed.length === workers.length, now() + 60_000);
    await streamer.viewer.leave(2000);
  } finally {
    await spare.stop();
  }
  const shown = warmed.reduce((s, w) => s + w.shown, 0);
  const started = warmed.reduce((s, w) => s + w.viewers, 0);
  const cpu = warmed.reduce((s, w) => s + w.cpuMicros, 0) / 1e6;
  cfg.log(
    `client workers warmed up on a throwaway server in ${((now() - t0) / 1000).toFixed(1)} s: ${shown} of ${started} viewers shown history, ${cpu.toFixed(2)} s of their CPU` +
      (warmed.length < workers.length ? ` (${workers.length - warmed.length} worker(s) did not finish)` : ''),
  );
}

/**
 * The first storm starts no sooner than this after the server was ready: by then its one-time start-up work is done
 * (the rehearsal, the avatar stock). It was chosen for the web chat's compression, which this server starts in the
 * first idle second from 15 s on, but its child then worked for seconds more, into the first storm; our servers now
 * start with the compressed bodies on disk (webchat-cache.ts) and compress nothing. Kept, so that figures compare.
 */
const FIRST_STORM_AFTER_MS = 17_000;

export async function runTarget(target: RunningTarget, phases: PlannedPhase[], cfg: RunConfig): Promise<TargetResult> {
  const readyAt = now();
  const result: TargetResult = {
    target: target.name,
    description: target.description,
    users: cfg.users,
    workers: cfg.workers,
    phases: [],
    timeline: [],
    peakRssMB: 0,
    edgePeakRssMB: NaN,
    wireBytes: 0,
    viewers: 0,
    listenOverflows: 0,
    wakeCostMicros: cfg.wakeCostMicros ?? NaN,
  };
  const overflows0 = listenOverflows();
  const streamer = await startStreamer(target.endpoint, cfg);
  cfg.log(`${target.name}: room ${target.endpoint.room} ready, ${cfg.seedMessages} messages of history posted`);

  const workers: ChildProcess[] = [];
  const workerCpuMicros: number[] = new Array(cfg.workers).fill(0);
  const workerPct: number[] = new Array(cfg.workers).fill(0);
  const latest = new Map<number, WorkerReport>();
  const finals: Array<Promise<void>> = [];
  const warmed: WorkerWarmed[] = [];
  let current: PhaseResult | undefined;
  let tickSamples = emptySamples();
  let tickDeliveries = 0;
  let tickBytes = 0;

  const onReport = (r: WorkerReport): void => {
    latest.set(r.workerId, r);
    workerCpuMicros[r.workerId] = r.cpuMicros;
    workerPct[r.workerId] = r.cpuPct;
    mergeSamples(tickSamples, r.samples);
    tickDeliveries += r.deliveries;
    tickBytes += r.bytesPayload;
    const p = current;
    if (!p) return;
    mergeSamples(p.samples, r.samples);
    p.deliveries += r.deliveries;
    p.presences += r.presences;
    p.sent += r.sent;
    p.vcards += r.vcardsReceived;
    if (r.lastVcardAt > p.lastVcardAt) p.lastVcardAt = r.lastVcardAt;
    p.vcardBytes += r.vcardBytes;
    p.vcardPhotos += r.vcardPhotos;
    p.smRequestsSent += r.smRequestsSent;
    p.smRequestsReceived += r.smRequestsReceived;
    p.payloadBytes += r.bytesPayload;
    for (const [k, v] of Object.entries(r.errors)) p.errors[k] = (p.errors[k] ?? 0) + v;
  };

  // The phases' cleanup (below) is not reached if a worker cannot start or the warm-up fails: stop them here.
  try {
    for (let w = 0; w < cfg.workers; w++) {
      const worker = fork(new URL('./worker.ts', import.meta.url), [], {
        execArgv: [
          '--import',
          'tsx',
          ...(cfg.clientCpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', join(cfg.clientCpuProfDir, `client-${w}`)] : []),
        ],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      workers.push(worker);
      const ready = new Promise<void>((resolve, reject) => {
        worker.on('error', reject);
        worker.once('exit', (code) => reject(new Error(`client worker ${w} exited (${code}) before it was ready`)));
        worker.on('message', (m: FromWorker) => {
          if (m.type === 'ready') resolve();
          else if (m.type === 'report') onReport(m);
          else if (m.type === 'warmed') warmed.push(m);
          else if (m.type === 'final') {
            result.wireBytes += m.wireBytes;
            result.viewers += m.viewers;
          } else if (m.type === 'fatal') reject(new Error(m.message));
        });
      });
      finals.push(new Promise((resolve) => worker.once('exit', () => resolve())));
      const init: ToWorker = {
        type: 'init',
        workerId: w,
        workers: cfg.workers,
        endpoint: target.endpoint,
        options: cfg.viewer,
      };
      worker.send(init);
      await ready;
    }

    if (cfg.warmUp)
      await warmUpClients(cfg, workers, warmed).catch((e: Error) => {
        throw new Error(`client warm-up failed: ${e.message}`, { cause: e });
      });
  } catch (e) {
    killWorkers(workers);
    throw e;
  }

  const harnessSeconds = (): number => cpuSeconds() + workerCpuMicros.reduce((a, b) => a + b, 0) / 1e6;
  const outstanding = (): number => [...latest.values()].reduce((s, r) => s + r.outstandingIqs + r.lateIqs, 0);
  // sampling: server /proc, harness CPU, and per-tick latency quantiles for the chart
  const t0 = now();
  let lastProc = readProc(target.pid);
  let lastHarness = harnessSeconds();
  let lastMachine = machineBusySeconds();
  let lastChildren = childrenCpuSeconds(target.pid, lastProc);
  let lastTick = t0;
  // The edge child's own peak (VmHWM), kept across samples: a restarted edge is a new process with a new peak.
  const noteEdgeRss = (): void => {
    const mb = edgePeakRssBytes(target.pid) / 1048576;
    if (!Number.isNaN(mb))
      result.edgePeakRssMB = Math.max(Number.isNaN(result.edgePeakRssMB) ? 0 : result.edgePeakRssMB, mb);
  };
  const sampler = setInterval(() => {
    const t = now();
    const proc = readProc(target.pid);
    const h = harnessSeconds();
    const m = machineBusySeconds();
    const kids = childrenCpuSeconds(target.pid, proc);
    const queues = current && !allDone() ? { rx: NaN, tx: NaN } : socketQueues(target.port);
    const dt = (t - lastTick) / 1000;
    let joined = 0;
    for (const r of latest.values()) joined += r.joined;
    if (proc) result.peakRssMB = Math.max(result.peakRssMB, proc.hwmBytes / 1048576);
    noteEdgeRss();
    result.timeline.push({
      t: (t - t0) / 1000,
      phase: current?.label ?? '',
      serverCpuPct: proc && lastProc ? ((proc.cpuSeconds - lastProc.cpuSeconds) / dt) * 100 : NaN,
      harnessCpuPct: ((h - lastHarness) / dt) * 100,
      workerCpuPct: [...workerPct],
      otherCpuPct:
        proc && lastProc
          ? Math.max(
              0,
              ((m -
                lastMachine -
                (proc.cpuSeconds - lastProc.cpuSeconds) -
                (kids - lastChildren || 0) -
                (h - lastHarness)) /
                dt) *
                100,
            )
          : NaN,
      rssMB: proc ? proc.rssBytes / 1048576 : NaN,
      joined,
      deliveriesPerSec: tickDeliveries / dt,
      mbPerSec: tickBytes / dt / 1e6,
      outstandingIqs: outstanding(),
      serverRxQueue: queues.rx,
      serverTxQueue: queues.tx,
      deliveryP50: quantile(tickSamples.delivery, 0.5),
      deliveryP95: quantile(tickSamples.delivery, 0.95),
      joinP50: quantile(tickSamples.joinToHistory, 0.5),
      joinP95: quantile(tickSamples.joinToHistory, 0.95),
      nickP95: quantile(tickSamples.nick, 0.95),
    });
    const p = current;
    if (p) {
      for (let w = 0; w < cfg.workers; w++) {
        const pct = workerPct[w]!;
        p.workerPeakPct = Math.max(p.workerPeakPct, pct);
        if (pct > SATURATED_PCT && !p.saturated.some((s) => s.startsWith(`worker ${w} `))) {
          p.saturated.push(`worker ${w} at ${pct.toFixed(0)}%`);
          cfg.log(
            `${target.name}: WARNING client worker ${w} at ${pct.toFixed(0)}% of a core in "${p.label}": the load generator may be the limit (use more --workers)`,
          );
        }
      }
    }
    tickSamples = emptySamples();
    tickDeliveries = 0;
    tickBytes = 0;
    lastProc = proc ?? lastProc;
    lastHarness = h;
    lastMachine = m;
    if (!Number.isNaN(kids)) lastChildren = kids;
    lastTick = t;
  }, TICK_MS);

  const allDone = (): boolean => latest.size === cfg.workers && [...latest.values()].every((r) => r.phaseDone);

  /**
   * Waits (at most 10 s) until the server has used at most 6% of a core over half a second (V8's profiler alone,
   * `--cpu-prof`, costs ~3%; the avatars drawn ahead up to 20%): a storm then meets an idle server, as a live's viewers
   * do, with the work it does in idle time done.
   */
  const untilServerIdle = async (): Promise<void> => {
    const start = now();
    let before = readProc(target.pid)?.cpuSeconds;
    while (before !== undefined && now() - start < 10_000) {
      await new Promise((r) => setTimeout(r, 500));
      const after = readProc(target.pid)?.cpuSeconds;
      if (after === undefined || after - before <= 0.03) return;
      before = after;
    }
    if (before !== undefined) cfg.log(`${target.name}: server still busy after 10 s; the phase starts anyway`);
  };

  try {
    for (let i = 0; i < phases.length; i++) {
      const planned = phases[i]!;
      const phase: Phase = { ...planned, id: i } as Phase;
      if (planned.kind === 'join') {
        const early = readyAt + FIRST_STORM_AFTER_MS - now();
        if (early > 0) await new Promise((r) => setTimeout(r, early));
        await untilServerIdle();
      }
      await target.allocations?.start();
      const proc0 = readProc(target.pid);
      const cpu0 = proc0?.cpuSeconds ?? NaN;
      const writes0 = writeSyscalls(target.pid);
      const wakeups0 = mainThreadWakeups(target.pid);
      const wait0 = runQueueWaitSeconds(target.pid);
      const main0 = mainThreadCpuSeconds(target.pid);
      const edge0 = edgeCpuSeconds(target.pid);
      const children0 = childrenCpuSeconds(target.pid, proc0);
      const edgeWrites0 = edgeWriteSyscalls(target.pid);
      const h0 = harnessSeconds();
      const w0 = [...workerCpuMicros];
      const p: PhaseResult = {
        label: planned.label,
        kind: planned.kind,
        startAt: now(),
        endAt: 0,
        monoStart: monoMicros(),
        monoEnd: 0,
        completed: false,
        plannedMs: 0,
        serverCpu: 0,
        serverMainCpu: 0,
        serverSystemCpu: 0,
        serverRunQueueWait: 0,
        serverMinorFaults: 0,
        serverWrites: 0,
        serverWakeups: 0,
        edgeCpu: 0,
        childCpu: 0,
        edgeWrites: 0,
        harnessCpu: 0,
        workerCpu: [],
        workerPeakPct: 0,
        saturated: [],
        samples: emptySamples(),
        deliveries: 0,
        presences: 0,
        sent: 0,
        vcards: 0,
        vcardBytes: 0,
        vcardPhotos: 0,
        smRequestsSent: 0,
        smRequestsReceived: 0,
        lastVcardAt: 0,
        payloadBytes: 0,
        errors: {},
        joined: 0,
        ready: 0,
        lastJoinAt: 0,
        lastSeatedAt: 0,
      };
      // reports from before this phase are flushed by the workers when they get the phase message
      for (const r of latest.values()) r.phaseDone = false;
      current = undefined;
      for (const w of workers) w.send({ type: 'phase', phase } satisfies ToWorker);
      await new Promise((r) => setTimeout(r, 50)); // let the flush reports of the previous phase land
      current = p;
      cfg.log(`${target.name}: phase "${p.label}" started`);

      let planMs = 0;
      if (planned.kind === 'join' && planned.ratePerSec > 0)
        planMs = ((planned.to - planned.from) / planned.ratePerSec) * 1000;
      if (planned.kind === 'chat') planMs = planned.durationMs;
      if (planned.kind === 'nick') planMs = planned.windowMs;
      p.plannedMs = planMs;
      const deadline = p.startAt + planMs + cfg.phaseTimeoutMs;

      // wait until workers report their share done, then (join, nick) until vCard fetches have quieted down
      const progress = setInterval(() => {
        let joined = 0;
        for (const r of latest.values()) joined += r.joined;
        const cpus = workerPct.map((c) => `${c.toFixed(0)}%`).join(' ');
        cfg.log(
          `${target.name}:   ${((now() - p.startAt) / 1000).toFixed(0)} s, ${joined} in room, ${outstanding()} iqs outstanding, client workers' CPU ${cpus}`,
        );
      }, 5000);
      let ok = await waitUntil(() => allDone() && [...latest.values()].every((r) => r.phaseId === i), deadline);
      if (planned.kind === 'chat') await new Promise((r) => setTimeout(r, DRAIN_MS));
      if (ok && planned.kind !== 'leave') {
        // settled = no iq unanswered (even those the clients gave up on), nothing unread in the server's socket
        // buffers and almost nothing arriving, for a while. CPU is not a criterion: when other programs compete
        // for the cores, a server with a backlog can sit at 10% of a core.
        let quietSince = 0;
        ok = await waitUntil(() => {
          const tl = result.timeline;
          const last = tl[tl.length - 1];
          const busy =
            outstanding() > 0 ||
            !last ||
            last.t * 1000 + t0 < p.startAt ||
            !(last.serverRxQueue === 0 && last.serverTxQueue === 0) ||
            last.mbPerSec > 0.2;
          if (busy) quietSince = 0;
          else if (!quietSince) quietSince = now();
          return quietSince > 0 && now() - quietSince >= SETTLE_QUIET_MS;
        }, deadline);
      }
      clearInterval(progress);
      await new Promise((r) => setTimeout(r, TICK_MS + 100)); // take the last reports of this phase
      p.completed = ok;
      p.endAt = now();
      p.monoEnd = monoMicros();
      const proc1 = readProc(target.pid);
      p.serverCpu = (proc1?.cpuSeconds ?? NaN) - cpu0;
      p.serverSystemCpu = (proc1?.systemSeconds ?? NaN) - (proc0?.systemSeconds ?? NaN);
      p.serverRunQueueWait = runQueueWaitSeconds(target.pid) - wait0;
      p.serverMinorFaults = (proc1?.minorFaults ?? NaN) - (proc0?.minorFaults ?? NaN);
      p.serverMainCpu = mainThreadCpuSeconds(target.pid) - main0;
      // syscw counts write and writev, which node uses for sockets; Prosody (LuaSocket) sends with send(), which
      // the count leaves out, so its figure would mean nothing.
      p.serverWrites = target.name === 'prosody' ? NaN : writeSyscalls(target.pid) - writes0;
      p.serverWakeups = mainThreadWakeups(target.pid) - wakeups0;
      p.edgeCpu = edgeCpuSeconds(target.pid) - edge0;
      // in clock ticks (1/100 s): the edge's share taken out leaves float dust otherwise
      p.childCpu = Math.round((childrenCpuSeconds(target.pid, proc1) - children0 - p.edgeCpu) * 100) / 100;
      p.edgeWrites = edgeWriteSyscalls(target.pid) - edgeWrites0;
      p.harnessCpu = harnessSeconds() - h0;
      p.workerCpu = workerCpuMicros.map((c, w) => (c - w0[w]!) / 1e6);
      // after the CPU figures: handing the profile over is the server's work too
      if (target.allocations) p.allocations = await target.allocations.stop(p.label);
      for (const r of latest.values()) {
        p.joined += r.joined;
        p.ready += r.ready;
        p.lastJoinAt = Math.max(p.lastJoinAt, r.lastJoinAt);
        p.lastSeatedAt = Math.max(p.lastSeatedAt, r.lastSeatedAt);
      }
      result.phases.push(p);
      cfg.log(
        `${target.name}: phase "${p.label}" ${ok ? 'done' : 'ENDED BY DEADLINE'} in ${((p.endAt - p.startAt) / 1000).toFixed(1)} s, ` +
          `server CPU ${p.serverCpu.toFixed(1)} s${p.edgeCpu ? ` + edge process ${p.edgeCpu.toFixed(1)} s` : ''}${p.childCpu >= 0.05 ? ` + its other child processes ${p.childCpu.toFixed(1)} s` : ''}, ${p.joined} in room, client workers' CPU ` +
          p.workerCpu
            .map((c) => `${((c / Math.max(0.001, (p.endAt - p.startAt) / 1000)) * 100).toFixed(0)}%`)
            .join(' ') +
          ` (mean), busiest ${p.workerPeakPct.toFixed(0)}% (peak 1 s)${p.saturated.length ? ' — SATURATED: ' + p.saturated.join(', ') : ''}`,
      );
      current = undefined;
    }
  } catch (e) {
    result.failure = (e as Error).message;
  } finally {
    for (const w of workers) if (w.connected) w.send({ type: 'stop' } satisfies ToWorker);
    await Promise.race([Promise.all(finals), new Promise((r) => setTimeout(r, 30_000))]);
    killWorkers(workers);
    clearInterval(sampler);
    await streamer.viewer.leave(2000);
    result.listenOverflows = listenOverflows() - overflows0;
    const last = readProc(target.pid);
    if (last) result.peakRssMB = Math.max(result.peakRssMB, last.hwmBytes / 1048576);
    noteEdgeRss();
  }
  return result;
}
