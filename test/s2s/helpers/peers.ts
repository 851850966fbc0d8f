// Real peer servers for S2S interop, from Debian: Prosody (through the shared launcher) and ejabberd, each a child
// process with its own config, data folder, certificate and loopback ports, resolving through the test's DNS
// server. Killed by PID.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir, readFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SrvSpec } from './dns.js';
import { pickFreePorts, tcpPortFree } from '../../helpers/ports.js';
import { startProsody } from '../../helpers/prosody.js';

const exec = promisify(execFile);

export interface Peer {
  name: 'prosody' | 'ejabberd';
  domain: string;
  c2sPort: number;
  s2sPort: number;
  /** Makes an account on the peer. */
  register(user: string, password: string): Promise<void>;
  records(): { hosts: Record<string, string>; srv: SrvSpec[] };
  readLog(): Promise<string>;
  stop(): Promise<void>;
}

/** Free TCP ports in [base, base+span) (this area's range is 18000–18999). */
export function pickPorts(n: number, base: number, span = 200): Promise<number[]> {
  return pickFreePorts(n, base, span);
}

export async function selfSigned(dir: string, domain: string): Promise<void> {
  await exec('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    join(dir, `${domain}.key`),
    '-out',
    join(dir, `${domain}.crt`),
    '-days',
    '30',
    '-subj',
    `/CN=${domain}`,
    '-addext',
    `subjectAltName=DNS:${domain},DNS:*.${domain}`,
  ]);
}

export async function waitPort(
  port: number,
  child: ChildProcess,
  ms: number,
  what: string,
  log: () => Promise<string>,
): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited with ${child.exitCode}\n${(await log()).slice(-3000)}`);
    if (!(await tcpPortFree(port))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on ${port} in time\n${(await log()).slice(-3000)}`);
}

export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

const srvFor = (domain: string, port: number): SrvSpec[] =>
  [domain].map((d) => ({ service: '_xmpp-server._tcp' as const, domain: d, target: `xmpp.${domain}`, port }));

export async function startProsodyPeer(domain: string, dnsPort: number): Promise<Peer> {
  const p = await startProsody({
    name: 's2s-prosody',
    ports: { count: 2, base: 18100, span: 200 },
    packages: 'prosody lua-unbound',
    logLevel: 'debug',
    timeoutMs: 15_000,
    prepare: (f) => selfSigned(f.certsDir, domain),
    readyPorts: ([, s2sPort]) => [s2sPort],
    config: ({ certsDir, ports: [c2sPort, s2sPort] }) => `
interfaces = { "127.0.0.1" }
c2s_ports = { ${c2sPort} }
s2s_ports = { ${s2sPort} }
s2s_interfaces = { "127.0.0.1" }
http_ports = { }
https_ports = { }
c2s_direct_tls_ports = { }
s2s_direct_tls_ports = { }
unbound = { forward = { "127.0.0.1@${dnsPort}" }, resolvconf = false, hoststxt = false }
modules_enabled = { "roster", "saslauth", "tls", "dialback", "disco", "ping", "s2s" }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
s2s_secure_auth = false
authentication = "internal_plain"
VirtualHost "${domain}"
  ssl = { certificate = "${certsDir}/${domain}.crt", key = "${certsDir}/${domain}.key" }
`,
  });
  const [c2sPort, s2sPort] = p.ports;
  return {
    name: 'prosody',
    domain,
    c2sPort,
    s2sPort,
    async register(user, password) {
      await p.prosodyctl('register', user, domain, password);
    },
    records: () => ({ hosts: { [`xmpp.${domain}`]: '127.0.0.1' }, srv: srvFor(domain, s2sPort) }),
    readLog: p.readLog,
    stop: p.stop,
  };
}

/**
 * ejabberd from Debian as a child: `ejabberdctl foreground` with our own config folder, spool, logs and Erlang node
 * name. ejabberdctl runs the VM as the `ejabberd` user, so the folder is handed to that user. DNS comes from the
 * Erlang resolver config (`inetrc` in the config folder): only the test's nameserver, no /etc/resolv.conf.
 */
export async function startEjabberdPeer(domain: string, dnsPort: number): Promise<Peer> {
  const dir = await mkdtemp(join(tmpdir(), 's2s-ejabberd-'));
  for (const d of ['conf', 'spool', 'logs']) await mkdir(join(dir, d));
  await selfSigned(dir, domain);
  const pem = join(dir, 'conf', `${domain}.pem`);
  await writeFile(
    pem,
    (await readFile(join(dir, `${domain}.crt`), 'utf8')) + (await readFile(join(dir, `${domain}.key`), 'utf8')),
  );
  const [c2sPort, s2sPort] = await pickPorts(2, 18300);
  const [distPort] = await pickPorts(1, 18500, 100);
  const node = `s2stest${process.pid}x${Math.floor(Math.random() * 1e6)}@localhost`;
  await writeFile(
    join(dir, 'conf', 'ejabberd.yml'),
    `
loglevel: debug
log_rotate_count: 0
hosts:
  - "${domain}"
certfiles:
  - "${pem}"
listen:
  -
    port: ${c2sPort}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    starttls: true
  -
    port: ${s2sPort}
    ip: "127.0.0.1"
    module: ejabberd_s2s_in
    max_stanza_size: 524288
s2s_use_starttls: optional
s2s_dns_timeout: 3
s2s_dns_retries: 1
auth_method: internal
auth_password_format: plain
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
  s2s:
    allow: all
s2s_access: s2s
modules:
  mod_disco: {}
  mod_ping: {}
  mod_roster: {}
  mod_s2s_dialback: {}
`,
  );
  await writeFile(
    join(dir, 'conf', 'inetrc'),
    `{lookup, [file, dns]}.\n{resolv_conf, "/dev/null"}.\n{hosts_file, "/dev/null"}.\n{host, {127,0,0,1}, ["localhost"]}.\n{nameserver, {127,0,0,1}, ${dnsPort}}.\n`,
  );
  // A fixed distribution port: no epmd daemon is started (it would outlive the test).
  await writeFile(join(dir, 'conf', 'ejabberdctl.cfg'), `ERL_DIST_PORT=${distPort}\n`);
  await exec('chown', ['-R', 'ejabberd:', dir]);
  await chmod(dir, 0o755);
  const ctl = (...args: string[]) => [
    '--config-dir',
    join(dir, 'conf'),
    '--spool',
    join(dir, 'spool'),
    '--logs',
    join(dir, 'logs'),
    '--node',
    node,
    ...args,
  ];
  // Own process group: ejabberdctl → su → erl; the whole group is ended by its id.
  const child = spawn('ejabberdctl', ctl('foreground'), {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    cwd: dir,
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const readLog = async () => out + (await readFile(join(dir, 'logs', 'ejabberd.log'), 'utf8').catch(() => ''));
  const stopAll = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await exec('ejabberdctl', ctl('stop'), { timeout: 15000 }).catch(() => {});
      const exited = new Promise((r) => child.once('exit', r));
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 8000);
      await exited;
      clearTimeout(t);
    }
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* group already gone */
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitPort(s2sPort, child, 40000, 'ejabberd', readLog);
  } catch (e) {
    await stopAll();
    throw e;
  }
  return {
    name: 'ejabberd',
    domain,
    c2sPort,
    s2sPort,
    async register(user, password) {
      await exec('ejabberdctl', ctl('register', user, domain, password), { timeout: 30000 });
    },
    records: () => ({ hosts: { [`xmpp.${domain}`]: '127.0.0.1' }, srv: srvFor(domain, s2sPort) }),
    readLog,
    stop: stopAll,
  };
}
