// Debian's Prosody as a reference target: if the replay tool fails a script against this mature
// server, the tool is wrong (or the script needs a newer Prosody than Debian ships).
// One Prosody per script, in foreground, on loopback ports from 15000-15099 (this tool's range),
// with in-memory storage and a fresh temp dir; stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { pickFreePorts } from '../helpers/ports.js';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningServer, ServerTarget, Transport } from './target.js';

const CONFIG = fileURLToPath(new URL('./prosody/prosody.cfg.lua', import.meta.url));
const PORT_MIN = 15000;
const PORT_MAX = 15099;
const START_TIMEOUT_MS = 15_000;

export function prosodyTarget(transport: Transport): ServerTarget {
  return {
    name: 'prosody',
    async unavailable() {
      return (await findOnPath('prosody')) ? undefined
        : 'prosody is not installed (apt-get install prosody)';
    },
    async start() {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'scansion-prosody-'));
      const [httpPort, c2sPort] = await pickFreePorts(2, PORT_MIN, PORT_MAX - PORT_MIN + 1);
      const child = spawn('prosody', ['-F', '--config', CONFIG], {
        env: {
          ...process.env,
          SCANSION_DIR: dir,
          SCANSION_HTTP_PORT: String(httpPort),
          SCANSION_C2S_PORT: String(c2sPort),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const keep = (b: Buffer) => { output = (output + b.toString()).slice(-4000); };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      let stopped = false;
      const logTail = async () => {
        const log = await readFile(path.join(dir, 'prosody.log'), 'utf8').catch(() => '');
        return (log + output).split('\n').slice(-30).join('\n');
      };
      const stop = async () => {
        if (stopped) return;
        stopped = true;
        await killChild(child, exited);
        await rm(dir, { recursive: true, force: true });
      };
      try {
        await waitReady(child, dir, [httpPort, c2sPort]);
      } catch (err) {
        const tail = await logTail();
        await stop();
        throw new Error(`${(err as Error).message}\n${tail}`, { cause: err });
      }
      const server: RunningServer = {
        endpoint: transport === 'tcp'
          ? { transport: 'tcp', host: '127.0.0.1', port: c2sPort }
          : { transport: 'websocket', url: `ws://127.0.0.1:${httpPort}/xmpp-websocket` },
        stop,
        diagnostics: logTail,
      };
      return server;
    },
  };
}

async function findOnPath(cmd: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, cmd);
    try {
      await access(p);
      return p;
    } catch { /* next */ }
  }
  return undefined;
}


/** Ready = the log says both listeners are ours (not someone else's port) and they accept. */
async function waitReady(child: ChildProcess, dir: string, ports: number[]): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`prosody exited early (${child.exitCode ?? child.signalCode})`);
    const log = await readFile(path.join(dir, 'prosody.log'), 'utf8').catch(() => '');
    if (/Failed to open server port|error/i.test(log) && /portmanager\s+error/.test(log)) throw new Error('prosody could not bind its ports');
    const bound = ports.every((p) => log.includes(`[127.0.0.1]:${p}`));
    if (bound && (await Promise.all(ports.map(accepts))).every(Boolean)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`prosody not ready within ${START_TIMEOUT_MS} ms`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

async function killChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
