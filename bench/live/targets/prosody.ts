// Prosody from Debian, configured the way peertube-plugin-livechat configures it (see README for the mapping),
// with its own config, data and log under a temp folder and HTTP (WebSocket, BOSH) on a loopback port of ours.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAvatars, writeComputedAvatars } from '../avatars.js';
import { spawnLogged, stopChild, TargetUnavailable, waitForPort, type RunningTarget } from './process.js';

const here = dirname(fileURLToPath(import.meta.url));
const DOMAIN = 'localhost';

/** Installs prosody and prosody-modules with apt-get when the binary is missing (needs root, as in CI). */
export function ensureProsodyInstalled(log: (s: string) => void): void {
  if (existsSync('/usr/bin/prosody') && existsSync('/usr/lib/prosody/modules/mod_muc_moderation')) return;
  log('prosody missing: installing prosody and prosody-modules with apt-get');
  try {
    execFileSync(
      'flock',
      ['/tmp/apt.lock', 'apt-get', '-o', 'DPkg::Lock::Timeout=600', 'install', '-y', 'prosody', 'prosody-modules'],
      { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } },
    );
  } catch (e) {
    throw new TargetUnavailable(`apt-get install prosody failed: ${(e as Error).message}`);
  }
}

function prosodyVersion(): string {
  try {
    const out = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'prosody']).toString().trim();
    return `Prosody ${out} (Debian)`;
  } catch {
    return 'Prosody (version unknown)';
  }
}

const lua = (v: string | number | boolean | string[]): string =>
  Array.isArray(v)
    ? `{ ${v.map((s) => JSON.stringify(s)).join('; ')} }`
    : typeof v === 'string'
      ? JSON.stringify(v)
      : String(v);

/** The configuration file, as livechat writes it, minus what needs PeerTube (HTTP auth, room-creation API). */
export function prosodyConfig(
  dir: string,
  httpPort: number,
  avatarsDir: string,
  avatars: string[],
  logLevel: string,
): string {
  const g: Array<[string, string | number | boolean | string[]]> = [
    ['daemonize', false],
    ['pidfile', join(dir, 'prosody.pid')],
    ['data_path', join(dir, 'data')],
    ['plugin_paths', [join(here, '..', 'prosody')]],
    ['default_storage', 'internal'],
    ['storage', 'internal'],
    ['allow_registration', false],
    ['admins', []],
    // livechat's list, plus disco (ConverseJS asks the host's disco#info) and websocket (livechat's front-end
    // connects over WebSocket when the PeerTube side proxies it)
    [
      'modules_enabled',
      ['roster', 'saslauth', 'carbons', 'version', 'uptime', 'ping', 'bosh', 'websocket', 'disco', 'posix'],
    ],
    ['modules_disabled', ['s2s']],
    ['run_as_root', true], // mod_posix refuses root otherwise; the harness is often run as root in CI containers
    ['cross_domain_bosh', false],
    ['consider_bosh_secure', true],
    ['cross_domain_websocket', false],
    ['consider_websocket_secure', true],
    ['c2s_require_encryption', false],
    ['interfaces', ['127.0.0.1']],
    ['c2s_ports', []],
    ['s2s_ports', []],
    ['component_ports', []],
    ['http_ports', [String(httpPort)]],
    ['http_interfaces', ['127.0.0.1']],
    ['https_ports', []],
    ['http_default_host', `anon.${DOMAIN}`],
  ];
  let s = g.map(([k, v]) => `${k} = ${lua(v)}\n`).join('');
  s += `log = { ${logLevel} = ${lua(join(dir, 'prosody.log'))}; error = ${lua(join(dir, 'prosody.err'))} }\n\n`;
  s += `VirtualHost "anon.${DOMAIN}"\n`;
  s += `  authentication = "anonymous"\n`;
  s += `  allow_anonymous_s2s = false\n`;
  s += `  trusted_proxies = ${lua(['127.0.0.1', '::1'])}\n`;
  s += `  modules_enabled = ${lua(['ping', 'http', 'bosh', 'websocket', 'bench_random_vcard'])}\n`;
  s += `  bench_random_vcard_avatars_path = ${lua(avatarsDir)}\n`;
  s += `  bench_random_vcard_avatars_files = ${lua(avatars)}\n\n`;
  s += `Component "room.${DOMAIN}" "muc"\n`;
  const muc: Array<[string, string | number | boolean | string[]]> = [
    ['modules_enabled', ['muc_mam', 'muc_moderation', 'vcard_muc']],
    ['restrict_room_creation', false], // livechat lets its room-creation API decide; here anyone may create
    ['muc_room_locking', false],
    ['muc_tombstones', false],
    ['muc_room_default_language', 'en'],
    ['muc_room_default_public', false],
    ['muc_room_default_persistent', true],
    ['muc_room_default_members_only', false],
    ['muc_room_default_moderated', false],
    ['muc_room_default_public_jids', false],
    ['muc_room_default_change_subject', false],
    ['muc_room_default_history_length', 20],
    ['muc_log_by_default', true],
    ['muc_log_presences', true],
    ['log_all_rooms', false],
    ['muc_log_expires_after', '1w'],
    ['muc_log_cleanup_interval', 4 * 60 * 60],
  ];
  s += muc.map(([k, v]) => `  ${k} = ${lua(v)}\n`).join('');
  return s;
}

export async function startProsody(opts: {
  baseDir: string;
  httpPort: number;
  room: string;
  logLevel: string;
  avatars?: 'livechat' | 'ours';
  log: (s: string) => void;
}): Promise<RunningTarget> {
  ensureProsodyInstalled(opts.log);
  const dir = join(opts.baseDir, 'prosody');
  await mkdir(join(dir, 'data'), { recursive: true });
  const avatarsDir = join(dir, 'avatars');
  const avatars = opts.avatars === 'ours' ? await writeComputedAvatars(avatarsDir) : await writeAvatars(avatarsDir);
  const cfgPath = join(dir, 'prosody.cfg.lua');
  await writeFile(cfgPath, prosodyConfig(dir, opts.httpPort, avatarsDir, avatars, opts.logLevel));
  const logPath = join(dir, 'stdout.log');
  // Debian 0.12: `prosody -F --config FILE` runs in the foreground with our config and nothing from /etc/prosody
  const child = spawnLogged('/usr/bin/prosody', ['-F', '--config', cfgPath], logPath, dir);
  try {
    await waitForPort(opts.httpPort, child, 30_000);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return {
    name: 'prosody',
    pid: child.pid!,
    port: opts.httpPort,
    endpoint: {
      wsUrl: `ws://127.0.0.1:${opts.httpPort}/xmpp-websocket`,
      boshUrl: `http://127.0.0.1:${opts.httpPort}/http-bind`,
      anonHost: `anon.${DOMAIN}`,
      room: opts.room,
    },
    description: `${prosodyVersion()}, livechat-like config (${cfgPath})`,
    logPath: join(dir, 'prosody.log'),
    stop: () => stopChild(child),
  };
}
