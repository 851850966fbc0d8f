// The standalone command as an admin runs it: `src/cli.ts` in a process of its own (through tsx), with what it
// printed and how it exited.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

/** Starts the command with `args`; `input`, when given, is written to its standard input, which is then closed. */
export function runCli(
  args: string[],
  opts: { cwd?: string; input?: string } = {},
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'src/cli.ts'), ...args], {
    cwd: opts.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  if (opts.input !== undefined) child.stdin.end(opts.input);
  const done = new Promise<CliResult>((r) => child.on('close', (code) => r({ code, out, err })));
  return { child, done };
}

/** What the server prints once it listens for WebSocket clients: its client URL. */
export const WS_URL = /ws:\/\/127\.0\.0\.1:\d+\/xmpp-websocket/;

/** The first match of `re` in what the command prints from now on; fails after `ms`, or when the command exits first. */
export function waitForOutput(child: ChildProcess, re: RegExp, ms = 15000): Promise<string> {
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${re} in output: ${out} ${err}`)), ms);
    child.stderr!.on('data', (d) => {
      err += d;
    });
    child.stdout!.on('data', (d) => {
      out += d;
      const m = re.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[0]);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(t);
      reject(new Error(`exited (${code ?? signal}) before printing ${re}: ${out} ${err}`));
    });
  });
}

/**
 * Runs the built server (`dist/src/cli.js`, as `npm start` runs it) with `nodeArgs` before the script and `args` after
 * it, on ephemeral ports, until it prints that it is ready; then stops it (SIGTERM) and returns everything it printed.
 * `env` is added to this process's environment (NODE_OPTIONS is emptied, so only `nodeArgs` apply).
 */
export async function runBuiltServerOnce(
  nodeArgs: string[],
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const child = spawn(
    process.execPath,
    [...nodeArgs, join(root, 'dist/src/cli.js'), '--http-port', '0', '--c2s-port', '0', ...args],
    { cwd: root, env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`not ready within 30 s:\n${log}`)), 30_000);
    const on = (d: Buffer) => {
      log += d.toString();
      if (/ready: http/.test(log)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${log}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  return log;
}
