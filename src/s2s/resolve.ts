// Where to connect for a remote domain (RFC 6120 §3.2, XEP-0368): a static route, else SRV records for
// _xmpps-server._tcp (direct TLS) and _xmpp-server._tcp merged by priority, else the domain's own A/AAAA on 5269.
// Lookups go through the configured resolver addresses only, so tests never depend on the system's DNS.
import { promises as dns, type SrvRecord } from 'node:dns';
import { isIP } from 'node:net';
import type { HostPort } from './config.js';

export interface Target {
  /** An IP address to connect to. */
  address: string;
  port: number;
  /** TLS from the first byte (XEP-0368) rather than STARTTLS. */
  directTls: boolean;
  /** The SRV target name (for logs). */
  name: string;
}

export class ResolveError extends Error {
  constructor(
    message: string,
    readonly timeout = false,
  ) {
    super(message);
  }
}

const MAX_TARGETS = 16;

export class S2sResolver {
  private resolver: dns.Resolver;
  private custom: boolean;

  constructor(
    servers: string[],
    private routes: Record<string, HostPort>,
    timeoutMs = 3000,
  ) {
    this.resolver = new dns.Resolver({ timeout: timeoutMs, tries: 2 });
    this.custom = servers.length > 0;
    if (this.custom) this.resolver.setServers(servers);
  }

  cancel(): void {
    this.resolver.cancel();
  }

  /** A known host and port (livechat's serverInfos `s2s` file): only its addresses are looked up. */
  async hostTargets(host: string, port: number): Promise<Target[]> {
    return (await this.addresses(host)).map((address) => ({ address, port, directTls: false, name: host }));
  }

  async targets(domain: string): Promise<Target[]> {
    const route = this.routes[domain];
    if (route)
      return (await this.addresses(route.host)).map((address) => ({
        address,
        port: route.port,
        directTls: false,
        name: route.host,
      }));
    const [tls, plain] = await Promise.all([
      this.srv(`_xmpps-server._tcp.${domain}`),
      this.srv(`_xmpp-server._tcp.${domain}`),
    ]);
    const records = [...tls.map((r) => ({ ...r, directTls: true })), ...plain.map((r) => ({ ...r, directTls: false }))];
    let hosts: Array<{ name: string; port: number; directTls: boolean }>;
    if (records.length === 0) {
      hosts = [{ name: domain, port: 5269, directTls: false }];
    } else {
      // A lone "." target: the domain says it offers no such service (RFC 2782).
      const usable = records.filter((r) => r.name !== '' && r.name !== '.');
      if (usable.length === 0) throw new ResolveError(`${domain} does not accept server connections (SRV target ".")`);
      hosts = orderSrv(usable);
    }
    const out: Target[] = [];
    for (const h of hosts) {
      let addrs: string[];
      try {
        addrs = await this.addresses(h.name);
      } catch {
        continue;
      }
      for (const address of addrs) {
        out.push({ address, port: h.port, directTls: h.directTls, name: h.name });
        if (out.length >= MAX_TARGETS) return out;
      }
    }
    if (out.length === 0) throw new ResolveError(`no address found for ${domain}`);
    return out;
  }

  private async srv(name: string): Promise<SrvRecord[]> {
    try {
      return await this.resolver.resolveSrv(name);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
      throw new ResolveError(`DNS lookup of ${name} failed (${code})`, code === 'ETIMEOUT');
    }
  }

  private async addresses(host: string): Promise<string[]> {
    if (isIP(host)) return [host];
    if (!this.custom) {
      // The system resolver honours /etc/hosts, which small private deployments rely on.
      const all = await dns.lookup(host, { all: true }).catch(() => []);
      if (all.length) return all.map((a) => a.address);
    }
    const [v4, v6] = await Promise.all([
      this.resolver.resolve4(host).catch(() => [] as string[]),
      this.resolver.resolve6(host).catch(() => [] as string[]),
    ]);
    const all = [...v4, ...v6];
    if (all.length === 0) throw new ResolveError(`no A/AAAA record for ${host}`);
    return all;
  }
}

/** RFC 2782 ordering: ascending priority; within one priority a weighted random order (XEP-0368: TLS first on ties). */
export function orderSrv<T extends SrvRecord & { directTls: boolean }>(records: T[]): T[] {
  const byPrio = new Map<number, T[]>();
  for (const r of records) {
    const l = byPrio.get(r.priority) ?? [];
    l.push(r);
    byPrio.set(r.priority, l);
  }
  const out: T[] = [];
  for (const prio of [...byPrio.keys()].sort((a, b) => a - b)) {
    const pool = [...byPrio.get(prio)!].sort((a, b) => Number(b.directTls) - Number(a.directTls));
    while (pool.length) {
      const total = pool.reduce((s, r) => s + r.weight, 0);
      let idx = 0;
      if (total > 0) {
        let pick = Math.random() * total;
        idx = pool.findIndex((r) => (pick -= r.weight) < 0);
        if (idx < 0) idx = pool.length - 1;
      }
      out.push(pool.splice(idx, 1)[0]);
    }
  }
  return out;
}
