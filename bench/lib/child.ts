// Starts a server as a child process and waits for the line that says where it listens.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Child {
  proc: ChildProcess;
  pid: number;
  match: RegExpExecArray;
  stop(): Promise<void>;
}

export function startChild(
  cmd: string,
  args: string[],
  ready: RegExp,
  timeoutMs = 20_000,
  env: NodeJS.ProcessEnv = {},
): Promise<Child> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let buf = '';
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${cmd} not ready after ${timeoutMs} ms: ${buf}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      buf += d;
      const m = ready.exec(buf);
      if (m) {
        clearTimeout(t);
        proc.stdout!.off('data', onData);
        proc.stdout!.resume();
        proc.stderr!.resume();
        resolve({
          proc,
          pid: proc.pid!,
          match: m,
          stop: () =>
            new Promise((r) => {
              if (proc.exitCode !== null) return r();
              proc.once('close', () => r());
              proc.kill('SIGTERM');
              setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
            }),
        });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(t);
      reject(new Error(`${cmd} exited ${code}: ${buf}`));
    });
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
