// CPU and memory of a process from /proc (Linux only): utime+stime in seconds, current and peak resident set.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticks = 100;
try {
  ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
  // keep the usual Linux value
}

export interface ProcSample {
  cpuSeconds: number; // user + system since the process started
  systemSeconds: number; // the system part: the kernel working for it (socket writes and reads, mostly)
  reapedChildrenSeconds: number; // user + system of its children that have ended and been waited for (cutime, cstime)
  rssBytes: number; // VmRSS
  hwmBytes: number; // VmHWM, the kernel's own peak RSS
  minorFaults: number; // page faults served without I/O since the process started (minflt): memory touched first
}

/** The fields of a /proc stat file (a process's or a thread's) after the command name, which may contain spaces. */
function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** One reading, or undefined if the process is gone. Sync reads of two tiny /proc files, twice a second. */
export function readProc(pid: number): ProcSample | undefined {
  try {
    const fields = statFields(`/proc/${pid}/stat`);
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const reaped = Number(fields[13]) + Number(fields[14]);
    const minorFaults = Number(fields[7]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) * 1024 : 0;
    };
    return {
      cpuSeconds: (utime + stime) / ticks,
      systemSeconds: stime / ticks,
      reapedChildrenSeconds: reaped / ticks,
      rssBytes: kb('VmRSS'),
      hwmBytes: kb('VmHWM'),
      minorFaults,
    };
  } catch {
    return undefined;
  }
}

/**
 * Seconds the process's main thread has spent runnable but waiting for a CPU (the second field of
 * /proc/PID/schedstat), NaN where the kernel does not report it. On a machine shared with the load generator and
 * other programs this says how much of a phase's latency was the machine's rather than the server's.
 */
export function runQueueWaitSeconds(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return NaN; // gone, or no schedstat
  }
}

/**
 * CPU seconds (user + system) of the process's main thread alone, NaN when it is gone. A server's main thread runs
 * its JavaScript; the rest of its CPU is helper threads (V8's optimizing compiler and garbage collector tasks,
 * libuv's pool), which can run on another core: a storm's last viewer waits on the main thread's share.
 */
export function mainThreadCpuSeconds(pid: number): number {
  try {
    const fields = statFields(`/proc/${pid}/task/${pid}/stat`);
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  } catch {
    return NaN;
  }
}

/**
 * How many times the process's main thread has gone to sleep and been woken (its voluntary context switches), NaN
 * when it is gone. An event loop sleeps when it has nothing to do, and on a VM each wake-up costs far more than on
 * bare hardware (wake-cost.ts), so a server's CPU at a live's pace depends on how often it sleeps.
 */
export function mainThreadWakeups(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
    return Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** The process's child processes (direct ones), none when it has none or is gone. */
function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const kids = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      for (const k of kids ? kids.split(' ') : []) out.push(Number(k));
    }
  } catch {
    // gone, or no /proc
  }
  return out;
}

/** The server's WebSocket edge child processes (websocket.edge = process), none without one. */
function edgePids(pid: number): number[] {
  return childPids(pid).filter((k) => {
    // Only the edge (its process title): other children come and go (the web chat's brotli child exits after
    // start), and a child that exits between two readings would make the difference negative.
    try {
      return readFileSync(`/proc/${k}/cmdline`, 'utf8').startsWith('xmpp-websocket-edge');
    } catch {
      return false; // ended meanwhile
    }
  });
}

/**
 * CPU seconds of all the process's children so far, the edge included: those running (or ended and not yet waited
 * for) as they read now, and those ended, which the kernel adds to the parent's cutime and cstime when it waits for
 * them. A child that ends between two readings moves from one to the other, so the total never goes back. `parent`:
 * the process's own reading (readProc), taken by the caller at the same moment.
 */
export function childrenCpuSeconds(pid: number, parent: ProcSample | undefined): number {
  if (!parent) return NaN; // gone
  let total = parent.reapedChildrenSeconds;
  for (const k of childPids(pid)) total += readProc(k)?.cpuSeconds ?? 0;
  return total;
}

/** CPU seconds of the server's WebSocket edge child process, 0 without one. */
export function edgeCpuSeconds(pid: number): number {
  let total = 0;
  for (const k of edgePids(pid)) total += readProc(k)?.cpuSeconds ?? 0;
  return total;
}

/** Write syscalls (write, writev: `syscw` of /proc/PID/io) a process made so far, NaN when it cannot be read. */
export function writeSyscalls(pid: number): number {
  try {
    return Number(/^syscw:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN; // gone, or not ours to read
  }
}

/** Write syscalls the server's WebSocket edge process made, 0 without one. */
export function edgeWriteSyscalls(pid: number): number {
  let total = 0;
  for (const k of edgePids(pid)) total += writeSyscalls(k) || 0;
  return total;
}

/** The kernel's peak RSS (VmHWM) of the server's WebSocket edge process in bytes, NaN without one. */
export function edgePeakRssBytes(pid: number): number {
  let peak = NaN;
  for (const k of edgePids(pid)) {
    const hwm = readProc(k)?.hwmBytes;
    if (hwm !== undefined) peak = Number.isNaN(peak) ? hwm : Math.max(peak, hwm);
  }
  return peak;
}

/** Busy CPU seconds of the whole machine (all cores) since boot, from /proc/stat. */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - idle) / ticks;
  } catch {
    return NaN;
  }
}

/**
 * Bytes waiting in the kernel on the server's established loopback connections on `port`: rx = sent by clients
 * but not yet read by the server (work it has not even started), tx = written by the server, not yet acknowledged.
 */
export function socketQueues(port: number): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  const hexPort = ':' + port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of queueFiles(port, hexPort)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const lines = text.split('\n');
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.indexOf(hexPort) < 0) continue; // most lines: split only those that may be the server's
      const f = line.trim().split(/\s+/);
      if (f.length < 5 || f[3] !== '01' || !f[1]!.endsWith(hexPort)) continue;
      const [t, r] = f[4]!.split(':');
      tx += parseInt(t!, 16);
      rx += parseInt(r!, 16);
    }
  }
  return { rx, tx };
}

/**
 * Which of /proc/net/tcp and tcp6 hold the server's listening socket on `port`, found once. Each read walks the
 * kernel's whole connection hash table (a few ms even when the file is nearly empty), twice a second while the
 * server is under load, so the family the server does not listen on is not read again.
 */
const queueFilesByPort = new Map<number, string[]>();
function queueFiles(port: number, hexPort: string): string[] {
  const known = queueFilesByPort.get(port);
  if (known) return known;
  const all = ['/proc/net/tcp', '/proc/net/tcp6'];
  const listening = all.filter((file) => {
    try {
      return readFileSync(file, 'utf8')
        .split('\n')
        .some((line) => {
          const f = line.trim().split(/\s+/);
          return f[3] === '0A' && f[1]!.endsWith(hexPort);
        });
    } catch {
      return false;
    }
  });
  if (listening.length === 0) return all; // not listening yet: read both, decide next time
  queueFilesByPort.set(port, listening);
  return listening;
}

/** The kernel's count of connections dropped because a listen queue was full (all sockets of the machine). */
export function listenOverflows(): number {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      if (!lines[i]!.startsWith('TcpExt:')) continue;
      const names = lines[i]!.split(' ');
      const values = lines[i + 1]!.split(' ');
      const k = names.indexOf('ListenOverflows');
      return k > 0 ? Number(values[k]) : NaN;
    }
  } catch {
    // not Linux
  }
  return NaN;
}
