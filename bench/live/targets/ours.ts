// This project's server, from its standalone CLI (dist/src/cli.js), in a child process with its own data folder.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnLogged, stopChild, TargetUnavailable, waitForPort, type RunningTarget } from './process.js';
import { serverEnv, serverNodeFlags, withUserFlags } from '../../../src/node-flags.js';
import { seedWebchatCache } from '../webchat-cache.js';
import { AllocationProfiler } from '../alloc-profile.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export async function startOurs(opts: {
  baseDir: string;
  httpPort: number;
  room: string;
  log: (s: string) => void;
  /** Write a V8 CPU profile of the whole run into this folder (node --cpu-prof), for per-phase hot spots. */
  cpuProfDir?: string;
  /**
   * Sample what the server allocates in each phase (V8's sampling heap profiler, through node --inspect), saving each
   * phase's profile as `<allocProf><phase>.heapprofile` (a folder and a name's start).
   */
  allocProf?: string;
  /** Node flags for the server process (V8 heap sizes, --trace-gc, …), over those `npm start` gives it. */
  nodeArgs?: string[];
  /** Server config file contents (JSON) layered under the flags, e.g. a presence mode for a baseline. */
  config?: Record<string, unknown>;
  /** Target name in the report (default "ours"). */
  name?: string;
}): Promise<RunningTarget> {
  const cli = join(root, 'dist', 'src', 'cli.js');
  // as `npm start` does: (re)build dist/ when it is missing or older than src/
  try {
    execFileSync(process.execPath, [join(root, 'scripts', 'ensure-built.mjs')], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (e) {
    opts.log(
      `ours: build step reported: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).slice(0, 500)}`,
    );
  }
  if (!existsSync(cli)) {
    throw new TargetUnavailable(
      `${cli} does not exist: run \`npm run build\` first (or the server is not written yet)`,
    );
  }
  let version = '?';
  try {
    version = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // keep '?'
  }
  const name = opts.name ?? 'ours';
  const dir = join(opts.baseDir, name);
  const data = join(dir, 'data');
  await mkdir(data, { recursive: true });
  await seedWebchatCache(data, opts.log);
  const logPath = join(dir, 'server.log');
  const configArgs: string[] = [];
  if (opts.config) {
    await writeFile(join(dir, 'config.json'), JSON.stringify(opts.config));
    configArgs.push('--config', join(dir, 'config.json'));
  }
  // launched as `npm start` launches it: its node flags, a flag given here replacing the same one of them
  const nodeArgs = withUserFlags(serverNodeFlags(), opts.nodeArgs ?? []);
  // and its environment (glibc's arena limit), a variable set in the benchmark's own environment winning
  const env = serverEnv();
  const arenas = env.MALLOC_ARENA_MAX ? `MALLOC_ARENA_MAX=${env.MALLOC_ARENA_MAX} ` : '';
  const child = spawnLogged(
    process.execPath,
    // the client TCP port is moved off 5222 into our own range; S2S stays off (no --s2s-port)
    [
      ...(opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : []),
      // the inspector on a port of the kernel's choosing, loopback only; its address is read from the log
      ...(opts.allocProf !== undefined ? ['--inspect=127.0.0.1:0'] : []),
      ...nodeArgs,
      cli,
      ...configArgs,
      '--domain',
      'localhost',
      '--http-port',
      String(opts.httpPort),
      '--c2s-port',
      String(opts.httpPort + 1),
      '--data',
      data,
    ],
    logPath,
    root,
    env,
  );
  let allocations: AllocationProfiler | undefined;
  try {
    await waitForPort(opts.httpPort, child, 30_000);
    if (opts.allocProf !== undefined) allocations = await AllocationProfiler.attach(logPath, opts.allocProf);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return {
    name,
    pid: child.pid!,
    port: opts.httpPort,
    endpoint: {
      wsUrl: `ws://127.0.0.1:${opts.httpPort}/xmpp-websocket`,
      boshUrl: `http://127.0.0.1:${opts.httpPort}/http-bind`,
      anonHost: 'anon.localhost',
      room: opts.room,
    },
    description: `this server ${version} (${arenas}node ${process.version}${nodeArgs.length ? ` ${nodeArgs.join(' ')}` : ''}, dist/src/cli.js, data ${data}${opts.config ? `, config ${JSON.stringify(opts.config)}` : ''})`,
    logPath,
    allocations,
    stop: () => {
      allocations?.close();
      return stopChild(child);
    },
  };
}
