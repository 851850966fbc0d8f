// One way to run Debian's Prosody as a test peer: a fresh temp folder (data/, certs/, prosody.log), free loopback
// ports from the caller's range, a config written from the common preamble plus the caller's part (or a config
// file of the caller's, read with environment variables), `prosody -F` as our child, ready once its ports accept
// (and its HTTP answers), stopped by PID. A failure to start says why and carries the log tail; a machine without
// prosody gets a failure naming the Debian packages, never a skip.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pickFreePorts } from './ports.js';

const run = promisify(execFile);

export interface ProsodyFolders {
  dir: string;
  dataDir: string;
  certsDir: string;
  ports: number[];
}

export interface ProsodyLaunch {
  /** Prefix of the temp folder and name in messages, e.g. `webchat-prosody`. */
  name: string;
  /** How many loopback ports to reserve, from this test area's range [base, base+span). */
  ports: { count: number; base: number; span: number };
  /** Extra folders made inside the temp folder (data/ and certs/ always exist). */
  folders?: string[];
  /** Work before Prosody starts: certificates, modules copied in. */
  prepare?(f: ProsodyFolders): Promise<void>;
  /** The configuration after the common preamble (run_as_root, pidfile, data_path, certificates, log). */
  config?(f: ProsodyFolders): string;
  /** Instead of `config`: a config file of the caller's, and the environment it reads (ENV_*). */
  configFile?: { path: string; env(f: ProsodyFolders): Record<string, string> };
  /** Log level of prosody.log (default info). */
  logLevel?: 'debug' | 'info';
  /** Ready when these ports accept connections… */
  readyPorts(ports: number[]): number[];
  /** …and, if given, this URL answers over HTTP… */
  readyUrl?(ports: number[]): string;
  /** …and, if given, the log says so (e.g. that a listener on a port is Prosody's own). */
  readyLog?(log: string, ports: number[]): boolean;
  /** Fail when Prosody logs an error line while starting (a module that did not load). */
  failOnLoggedErrors?: boolean;
  timeoutMs?: number;
  /** Keep the folder on stop(); cleanup() removes it (for tests that read Prosody's data afterwards). */
  keepFolder?: boolean;
  /** Debian packages to name when prosody is missing or cannot load a module. */
  packages?: string;
}

export interface RunningProsody extends ProsodyFolders {
  configPath: string;
  pid: number;
  readLog(): Promise<string>;
  /** The last lines of Prosody's log and output, for a failure message. */
  diagnostics(lines?: number): Promise<string>;
  /** Runs prosodyctl against this instance's config. */
  prosodyctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
  /** Removes the folder (after stop(), with keepFolder). */
  cleanup(): Promise<void>;
}

const luaStr = (s: string) => JSON.stringify(s); // JSON string escapes are valid Lua escapes for these paths

function preamble(f: ProsodyFolders, level: string): string {
  return `-- generated for a test run
run_as_root = true
pidfile = ${luaStr(join(f.dir, 'prosody.pid'))}
data_path = ${luaStr(f.dataDir)}
certificates = ${luaStr(f.certsDir)}
log = { { levels = { min = ${luaStr(level)} }, to = "file", filename = ${luaStr(join(f.dir, 'prosody.log'))} } }
`;
}

/** Starts Prosody; throws, with the log tail, when it cannot. */
export async function startProsody(o: ProsodyLaunch): Promise<RunningProsody> {
  const packages = o.packages ?? 'prosody';
  const timeoutMs = o.timeoutMs ?? 20_000;
  const dir = await mkdtemp(join(tmpdir(), `${o.name}-`));
  const f: ProsodyFolders = { dir, dataDir: join(dir, 'data'), certsDir: join(dir, 'certs'), ports: [] };
  for (const d of ['data', 'certs', ...(o.folders ?? [])]) await mkdir(join(dir, d), { recursive: true });
  let child: ChildProcess | undefined;
  let output = '';
  const readLog = () => readFile(join(dir, 'prosody.log'), 'utf8').catch(() => '');
  const diagnostics = async (lines = 40) => ((await readLog()) + output).split('\n').slice(-lines).join('\n');
  const killOnExit = () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  };
  let exited: Promise<void> = Promise.resolve();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    if (!o.keepFolder) await rm(dir, { recursive: true, force: true });
  };
  try {
    f.ports = await pickFreePorts(o.ports.count, o.ports.base, o.ports.span);
    await o.prepare?.(f);
    const configPath = o.configFile?.path ?? join(dir, 'prosody.cfg.lua');
    if (!o.configFile) {
      if (!o.config) throw new Error('startProsody: give config or configFile');
      await writeFile(configPath, preamble(f, o.logLevel ?? 'info') + o.config(f));
    }
    const env = o.configFile ? { ...process.env, ...o.configFile.env(f) } : process.env;
    child = spawn('prosody', ['-F', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const spawned = child;
    const spawnError = new Promise<never>((_, reject) =>
      spawned.once('error', (e: NodeJS.ErrnoException) => {
        reject(
          new Error(
            e.code === 'ENOENT'
              ? `prosody is not installed (apt-get install ${packages})`
              : `cannot run prosody: ${e.message}`,
          ),
        );
      }),
    );
    spawnError.catch(() => undefined);
    exited = new Promise<void>((r) => spawned.once('close', () => r()));
    process.once('exit', killOnExit);
    const keep = (b: Buffer) => {
      output = (output + b.toString()).slice(-8000);
    };
    spawned.stdout!.on('data', keep);
    spawned.stderr!.on('data', keep);
    await Promise.race([waitReady(spawned, o, f.ports, readLog, timeoutMs), spawnError]);
    return {
      ...f,
      configPath,
      pid: spawned.pid!,
      readLog,
      diagnostics,
      prosodyctl: async (...args) => (await run('prosodyctl', ['--config', configPath, ...args], { env })).stdout,
      stop,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    const tail = await diagnostics();
    await stop();
    if (o.keepFolder) await rm(dir, { recursive: true, force: true });
    throw new Error(`${o.name}: Prosody did not start: ${(e as Error).message}\n${tail}`, { cause: e });
  }
}

async function waitReady(
  child: ChildProcess,
  o: ProsodyLaunch,
  ports: number[],
  readLog: () => Promise<string>,
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  const wantPorts = o.readyPorts(ports);
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`prosody exited (${child.exitCode ?? child.signalCode}) while starting`);
    }
    const log = await readLog();
    if (/portmanager\s+error/.test(log)) throw new Error('prosody could not open its ports');
    if (o.failOnLoggedErrors) {
      const errors = log.split('\n').filter((l) => /\t(error|fatal)\t/.test(l));
      if (errors.length)
        throw new Error(
          `prosody logged errors while starting (apt-get install ${o.packages ?? 'prosody'}?):\n${errors.join('\n')}`,
        );
    }
    if (
      (await Promise.all(wantPorts.map(accepts))).every(Boolean) &&
      (!o.readyUrl || (await answers(o.readyUrl(ports)))) &&
      (!o.readyLog || o.readyLog(await readLog(), ports))
    ) {
      if (o.failOnLoggedErrors) {
        // Hosts and modules load before the ports open: a module that failed has said so by now.
        const errors = (await readLog()).split('\n').filter((l) => /\t(error|fatal)\t/.test(l));
        if (errors.length) throw new Error(`prosody logged errors while starting:\n${errors.join('\n')}`);
      }
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`prosody not ready within ${timeoutMs} ms (ports ${wantPorts.join(', ')})`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const r = await fetch(url);
    await r.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}
