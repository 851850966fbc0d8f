// Dev/test fallback: a throwaway Prosody (Debian package) with the same shape as our standalone default
// (anon.<domain> anonymous login, room.<domain> MUC, WebSocket + BOSH), run as a child process with its own
// config in a temp dir. Never touches the system service.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pickFreePorts } from '../helpers/ports.js';

export interface DevProsody {
  domain: string;
  httpPort: number;
  websocketUrl: string;
  boshUrl: string;
  /** Prosody's own log (info level), for diagnosing a failed test. */
  readLog(): Promise<string>;
  stop(): Promise<void>;
}


async function waitHttp(url: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`prosody exited with ${child.exitCode}`);
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('prosody did not start in time');
}

export async function startProsody(domain = 'localhost'): Promise<DevProsody> {
  const dir = await mkdtemp(join(tmpdir(), 'webchat-prosody-'));
  await mkdir(join(dir, 'data'));
  await mkdir(join(dir, 'certs'));
  const [httpPort] = await pickFreePorts(1, 17000, 100); // this area's range: 17000–17099
  const cfg = `
run_as_root = true
pidfile = "${dir}/prosody.pid"
data_path = "${dir}/data"
certificates = "${dir}/certs"
log = { { levels = { min = "info" }, to = "file", filename = "${dir}/prosody.log" } }
interfaces = { "127.0.0.1" }
c2s_ports = { }
s2s_ports = { }
http_ports = { ${httpPort} }
http_interfaces = { "127.0.0.1" }
https_ports = { }
modules_enabled = { "saslauth", "roster", "disco", "ping", "websocket", "bosh", "vcard" }
modules_disabled = { "s2s" }
consider_websocket_secure = true
consider_bosh_secure = true
http_cors_override = { bosh = { enabled = true }, websocket = { enabled = true } }
c2s_require_encryption = false
authentication = "internal_hashed"
VirtualHost "${domain}"
VirtualHost "anon.${domain}"
  authentication = "anonymous"
Component "room.${domain}" "muc"
  restrict_room_creation = false
`;
  const cfgPath = join(dir, 'prosody.cfg.lua');
  await writeFile(cfgPath, cfg);
  const child = spawn('prosody', ['-F', '--config', cfgPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Never outlive the test process, even when it ends without reaching stop().
  const killOnExit = () => { if (child.exitCode === null) child.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  try {
    await waitHttp(`http://127.0.0.1:${httpPort}/http-bind`, child, 10000);
  } catch (e) {
    process.off('exit', killOnExit);
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n${out}`, { cause: e });
  }
  return {
    domain,
    httpPort,
    websocketUrl: `ws://127.0.0.1:${httpPort}/xmpp-websocket`,
    boshUrl: `http://127.0.0.1:${httpPort}/http-bind`,
    readLog: () => readFile(join(dir, 'prosody.log'), 'utf8').catch(() => ''),
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
