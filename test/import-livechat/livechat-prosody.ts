// A throwaway Debian Prosody configured the way peertube-plugin-livechat configures it for its chat: internal storage,
// MUC on room.<domain> with mod_muc_mam (presences logged, as livechat does), persistent rooms, WebSocket for clients.
// Its data folder is what the import reads.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pickFreePorts } from '../helpers/ports.js';

const run = promisify(execFile);

export interface LivechatProsody {
  domain: string;
  dir: string;
  dataDir: string;
  websocketUrl: string;
  register(user: string, password: string): Promise<void>;
  readLog(): Promise<string>;
  /** Stops Prosody (its data stays for the import). */
  stop(): Promise<void>;
  /** Removes the folder. */
  cleanup(): Promise<void>;
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

export async function startLivechatProsody(domain = 'localhost'): Promise<LivechatProsody> {
  const dir = await mkdtemp(join(tmpdir(), 'livechat-prosody-'));
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  await mkdir(join(dir, 'certs'));
  const [httpPort] = await pickFreePorts(1, 19400, 100); // this area's range: 19400–19499
  const cfg = `
run_as_root = true
pidfile = "${dir}/prosody.pid"
data_path = "${dataDir}"
storage = "internal"
certificates = "${dir}/certs"
log = { { levels = { min = "info" }, to = "file", filename = "${dir}/prosody.log" } }
interfaces = { "127.0.0.1" }
c2s_ports = { }
s2s_ports = { }
http_ports = { ${httpPort} }
http_interfaces = { "127.0.0.1" }
https_ports = { }
modules_enabled = { "saslauth", "roster", "disco", "ping", "websocket" }
modules_disabled = { "s2s" }
consider_websocket_secure = true
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_hashed"
VirtualHost "${domain}"
Component "room.${domain}" "muc"
  modules_enabled = { "muc_mam" }
  muc_room_locking = false
  muc_tombstones = false
  muc_room_default_language = "en"
  muc_room_default_public = false
  muc_room_default_persistent = true
  muc_room_default_history_length = 20
  muc_log_by_default = true
  muc_log_presences = true
  log_all_rooms = false
  muc_log_expires_after = "never"
  restrict_room_creation = "local"
`;
  const cfgPath = join(dir, 'prosody.cfg.lua');
  await writeFile(cfgPath, cfg);
  const child = spawn('prosody', ['-F', '--config', cfgPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => { if (child.exitCode === null) child.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
  };
  try {
    await waitHttp(`http://127.0.0.1:${httpPort}/xmpp-websocket`, child, 20_000);
  } catch (e) {
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n${out}`, { cause: e });
  }
  return {
    domain,
    dir,
    dataDir,
    websocketUrl: `ws://127.0.0.1:${httpPort}/xmpp-websocket`,
    async register(user, password) {
      await run('prosodyctl', ['--config', cfgPath, 'register', user, domain, password]);
    },
    readLog: () => readFile(join(dir, 'prosody.log'), 'utf8').catch(() => ''),
    stop,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
