// Shared plumbing for server targets: a child process we started, waiting for its port, stopping it by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import type { AllocationProfiler } from '../alloc-profile.js';
import { createWriteStream } from 'node:fs';
import { connect } from 'node:net';
import type { ClientEndpoint } from '../messages.js';

export interface RunningTarget {
  name: string; // 'ours', 'prosody', or a variant of ours such as 'ours-all'
  pid: number;
  port: number; // loopback HTTP port (WebSocket and BOSH)
  endpoint: ClientEndpoint;
  description: string; // version and configuration summary for the report
  logPath: string;
  /** With --alloc-prof (our server only): its allocations, sampled per phase through its inspector. */
  allocations?: AllocationProfiler;
  stop(): Promise<void>;
}

export class TargetUnavailable extends Error {}

/** Spawns a server with stdout/stderr to a log file; the caller owns the returned child and must stop it. */
export function spawnLogged(
  cmd: string,
  args: string[],
  logPath: string,
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): ChildProcess {
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(cmd, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, NODE_ENV: 'production' },
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

/** Resolves once a TCP connection to 127.0.0.1:port succeeds; rejects after timeoutMs or if the child exits. */
export async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new TargetUnavailable(
        `process exited (code ${child.exitCode}, signal ${child.signalCode}) before listening`,
      );
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new TargetUnavailable(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** SIGTERM, then SIGKILL after graceMs; only ever the PID we spawned. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
      process.kill(child.pid, 'SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}
