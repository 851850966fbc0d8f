// A throwaway DNS server for S2S tests: Debian's dnsmasq on loopback with the SRV and A records a test names,
// no upstream, no /etc/hosts. Started as a child process and killed by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';

export interface SrvSpec {
  service: '_xmpp-server._tcp' | '_xmpps-server._tcp' | '_xmpp-client._tcp';
  domain: string;
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

export interface TestDns {
  port: number;
  address: string;
  stop(): Promise<void>;
}

async function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A free UDP port in 18000–18099 (this area's DNS range). */
export async function pickDnsPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = 18000 + Math.floor(Math.random() * 100);
    if (await udpFree(p)) return p;
  }
  throw new Error('no free UDP port in 18000-18099');
}

export async function startDns(
  port: number,
  opts: { hosts: Record<string, string>; srv: SrvSpec[] },
): Promise<TestDns> {
  const args = [
    '--keep-in-foreground',
    '--no-daemon',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--conf-file=/dev/null',
    '--pid-file=',
    '--user=root',
    '--log-facility=-',
    // Everything under .example is ours (libunbound, Prosody's resolver, refuses .test outright: RFC 6761): answer NXDOMAIN rather than forward.
    '--local=/example/',
  ];
  for (const [name, ip] of Object.entries(opts.hosts)) args.push(`--host-record=${name},${ip}`);
  for (const s of opts.srv)
    args.push(`--srv-host=${s.service}.${s.domain},${s.target},${s.port},${s.priority ?? 0},${s.weight ?? 5}`);
  const child: ChildProcess = spawn('dnsmasq', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  // Ready when it answers a query.
  const { promises: dns } = await import('node:dns');
  const r = new dns.Resolver({ timeout: 300, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  const until = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited (${child.exitCode}): ${out}`);
    try {
      await r.resolve4(Object.keys(opts.hosts)[0]);
      break;
    } catch {
      if (Date.now() > until) {
        child.kill('SIGKILL');
        throw new Error(`dnsmasq did not answer: ${out}`);
      }
      await new Promise((res) => setTimeout(res, 50));
    }
  }
  return {
    port,
    address: `127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    },
  };
}
