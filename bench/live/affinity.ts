// CPU affinity for --pin (Linux `taskset`): the server on one core, the load generator on the others, as the
// performance issue measures them, so that neither waits for the other's core.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** Binds every thread of `pid` to `cpus` (taskset's list syntax, e.g. "0" or "1-3"); threads made later inherit it. */
export function pinTo(pid: number, cpus: string): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new Error(`--pin: taskset -a -p -c ${cpus} ${pid} failed`, { cause: e });
  }
}

/** The CPUs left to the load generator when the server has CPU 0; throws on a single-CPU machine. */
export function harnessCpus(): string {
  const n = availableParallelism();
  if (n < 2) throw new Error('--pin needs at least 2 CPUs (the server on one, the load generator on the others)');
  return n === 2 ? '1' : `1-${n - 1}`;
}
