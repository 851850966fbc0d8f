// A client worker process: owns every viewer whose index ≡ workerId (mod workers), runs the phases the main process
// sends, and reports samples, counters and its own CPU every REPORT_MS. All timers are cleared when a phase or the
// run ends. A process (not a thread) per worker, so the clients' own garbage collection and event loops are spread
// over the cores and their CPU is measured apart from the orchestrator's.
import type { ClientEndpoint, FromWorker, Phase, ToWorker, ViewerOptions, WorkerReport } from './messages.js';
import { emptySamples } from './messages.js';
import { Tally, Viewer, now } from './viewer.js';

const REPORT_MS = 500;
const LEAVE_TIMEOUT_MS = 3_000;
const WARM_UP_TIMEOUT_MS = 30_000;

if (!process.send) throw new Error('bench/live/worker.ts must run as a child process with an IPC channel (fork)');
const port = {
  postMessage: (m: FromWorker): void => void process.send!(m),
  on: (_: 'message', fn: (m: ToWorker) => void): void => void process.on('message', fn),
};
// CPU share reported over this window: 1 s, since a 400-viewer storm lasts about that long and a longer window
// averaged a storm with the quiet that follows it (reports come every REPORT_MS, each measured on its own clock).
const CPU_WINDOW_MS = 1000;
const cpuHistory: Array<{ t: number; micros: number }> = [];

/** Cumulative CPU of this process (µs) and its share of one core over the last CPU_WINDOW_MS. */
function cpu(): { micros: number; pct: number } {
  const u = process.cpuUsage();
  const micros = u.user + u.system;
  const t = now();
  cpuHistory.push({ t, micros });
  while (cpuHistory.length > 2 && t - cpuHistory[1]!.t >= CPU_WINDOW_MS) cpuHistory.shift();
  const first = cpuHistory[0]!;
  const pct = t > first.t ? ((micros - first.micros) / 1000 / (t - first.t)) * 100 : 0;
  return { micros, pct };
}

let workerId = 0;
let workers = 1;
let endpoint: ClientEndpoint;
let options: ViewerOptions;
const tally = new Tally();
const viewers = new Map<number, Viewer>();
let phase: Phase | undefined;
let phaseDone = true;
let phaseTimers: NodeJS.Timeout[] = [];
let reportTimer: NodeJS.Timeout | undefined;
let sweepTimer: NodeJS.Timeout | undefined;

function mine(from: number, to: number): number[] {
  const out: number[] = [];
  const first = from + ((workerId - (from % workers) + workers) % workers);
  for (let i = first; i < to; i += workers) out.push(i);
  return out;
}

function report(): void {
  let connected = 0;
  let joined = 0;
  let ready = 0;
  let lastJoinAt = 0;
  let lastSeatedAt = 0;
  for (const v of viewers.values()) {
    if (v.historyAt > lastJoinAt) lastJoinAt = v.historyAt;
    if (v.seatedAt > lastSeatedAt) lastSeatedAt = v.seatedAt;
    if (v.state !== 'idle' && v.state !== 'failed' && v.state !== 'left') connected++;
    if (v.inRoom) joined++;
    if (v.ready && v.inRoom) ready++;
  }
  const c = cpu();
  const r: WorkerReport = {
    type: 'report',
    workerId,
    cpuMicros: c.micros,
    cpuPct: c.pct,
    phaseId: phase?.id ?? -1,
    samples: tally.samples,
    bytesPayload: tally.bytesPayload,
    deliveries: tally.deliveries,
    presences: tally.presences,
    sent: tally.sent,
    vcardsReceived: tally.vcardsReceived,
    vcardBytes: tally.vcardBytes,
    vcardPhotos: tally.vcardPhotos,
    smRequestsSent: tally.smRequestsSent,
    smRequestsReceived: tally.smRequestsReceived,
    lastVcardAt: tally.lastVcardAt,
    errors: tally.errors,
    connected,
    joined,
    ready,
    outstandingIqs: tally.outstandingIqs,
    lateIqs: tally.lateIqs,
    lastJoinAt,
    lastSeatedAt,
    phaseDone,
  };
  port.postMessage(r);
  tally.samples = emptySamples();
  tally.bytesPayload = 0;
  tally.deliveries = 0;
  tally.presences = 0;
  tally.sent = 0;
  tally.vcardsReceived = 0;
  tally.vcardBytes = 0;
  tally.vcardPhotos = 0;
  tally.smRequestsSent = 0;
  tally.smRequestsReceived = 0;
  tally.lastVcardAt = 0;
  tally.errors = {};
}

function clearPhaseTimers(): void {
  for (const t of phaseTimers) clearTimeout(t);
  phaseTimers = [];
}

function later(ms: number, fn: () => void): void {
  phaseTimers.push(setTimeout(fn, Math.max(0, ms)));
}

/** A joining viewer is done: it has its history (the MAM page answered in the room), or it failed or left. */
const joinOver = (v: Viewer): boolean => v.state === 'failed' || v.state === 'left' || (v.inRoom && v.mamAnswered);

function runJoin(p: Extract<Phase, { kind: 'join' }>): void {
  const list = mine(p.from, p.to);
  const check = (): void => {
    if (list.every((i) => joinOver(viewers.get(i)!))) phaseDone = true;
  };
  if (list.length === 0) phaseDone = true;
  for (const i of list) {
    const v = new Viewer(i, endpoint, options, tally);
    viewers.set(i, v);
    const start = (): void => v.start();
    if (p.ratePerSec > 0) later(((i - p.from) / p.ratePerSec) * 1000, start);
    else start();
  }
  // completion is polled (bounded: the main thread ends the phase at its own deadline)
  const poll = (): void => {
    check();
    if (!phaseDone) later(100, poll);
  };
  later(100, poll);
}

function runChat(p: Extract<Phase, { kind: 'chat' }>): void {
  const senders = [...viewers.values()].filter((v) => v.inRoom).slice(0, Math.ceil(p.senders / workers));
  const share = p.ratePerSec / workers;
  if (senders.length === 0 || share <= 0) {
    phaseDone = true;
    return;
  }
  const interval = 1000 / share;
  const total = Math.floor((p.durationMs / 1000) * share);
  const start = now();
  let n = 0;
  const tick = (): void => {
    // catch up if timers ran late, but never more than 50 messages at once
    const due = Math.min(total, Math.floor((now() - start) / interval) + 1);
    for (let k = 0; n < due && k < 50; k++, n++) senders[n % senders.length]!.sendChat(`${workerId}.${n}`);
    if (n >= total) {
      phaseDone = true;
      return;
    }
    later(start + n * interval - now(), tick);
  };
  tick();
}

function runNick(p: Extract<Phase, { kind: 'nick' }>): void {
  const list = [...viewers.values()].filter((v) => v.inRoom);
  const deadline = now() + p.windowMs + options.iqTimeoutMs;
  for (const v of list) {
    later(Math.random() * p.windowMs, () => v.changeNick(`Viewer ${String(v.index).padStart(6, '0')}`));
  }
  const poll = (): void => {
    const waiting = list.some((v) => v.nickPending || (v.inRoom && !v.nick.startsWith('Viewer ')));
    if (!waiting || now() > deadline) {
      phaseDone = true;
      return;
    }
    later(200, poll);
  };
  later(200, poll);
}

/**
 * A storm like the first measured one, against another server and into a tally of its own: V8 compiles this
 * process's own paths here, not in the measured storm (a cold worker added ~0.3 s to the last viewer's history with
 * the server's CPU unchanged; bench/live/README.md, "A cold load generator").
 */
async function warmUp(ep: ClientEndpoint, count: number): Promise<void> {
  const cpu0 = process.cpuUsage();
  const own = new Tally();
  const list = mine(0, count).map((i) => new Viewer(i, ep, options, own));
  for (const v of list) v.start();
  const settled = (): boolean => own.outstandingIqs === 0 && list.every(joinOver);
  const deadline = now() + WARM_UP_TIMEOUT_MS;
  while (!settled() && now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const shown = list.filter((v) => v.inRoom && v.mamAnswered).length;
  await Promise.all(list.map((v) => v.leave(LEAVE_TIMEOUT_MS)));
  const used = process.cpuUsage(cpu0);
  port.postMessage({ type: 'warmed', workerId, viewers: list.length, shown, cpuMicros: used.user + used.system });
}

async function runLeave(): Promise<void> {
  // leave in small batches, as real viewers do not all close their tab in the same millisecond
  const list = [...viewers.values()];
  for (let i = 0; i < list.length; i += 100) {
    await Promise.all(list.slice(i, i + 100).map((v) => v.leave(LEAVE_TIMEOUT_MS)));
  }
  phaseDone = true;
}

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'init':
      workerId = m.workerId;
      workers = m.workers;
      endpoint = m.endpoint;
      options = m.options;
      reportTimer = setInterval(report, REPORT_MS);
      sweepTimer = setInterval(() => {
        const t = now();
        for (const v of viewers.values()) v.sweep(t);
      }, 1000);
      port.postMessage({ type: 'ready', workerId });
      return;
    case 'phase':
      report(); // samples so far belong to the previous phase
      clearPhaseTimers();
      phase = m.phase;
      phaseDone = false;
      if (phase.kind === 'join') runJoin(phase);
      else if (phase.kind === 'chat') runChat(phase);
      else if (phase.kind === 'nick') runNick(phase);
      else void runLeave();
      return;
    case 'warm-up':
      void warmUp(m.endpoint, m.viewers);
      return;
    case 'stop': {
      clearPhaseTimers();
      void (async () => {
        await Promise.all([...viewers.values()].map((v) => v.leave(1000).catch(() => {})));
        report();
        if (reportTimer) clearInterval(reportTimer);
        if (sweepTimer) clearInterval(sweepTimer);
        let wire = 0;
        for (const v of viewers.values()) wire += v.wireBytes;
        const final: FromWorker = { type: 'final', workerId, wireBytes: wire, viewers: viewers.size };
        process.send!(final, () => process.exit(0)); // exit once the final report is handed over
      })();
      return;
    }
  }
});
