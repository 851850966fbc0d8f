// The client's address behind reverse proxies: the socket's peer, unless that peer is a trusted proxy, in which case
// X-Forwarded-For is read from the right (each proxy appends the address it got the request from) and the first
// address not itself a trusted proxy is the client. A forwarded header from anyone else is ignored, so nobody can
// choose the address per-IP limits and bans see. Trusted proxies are addresses, CIDR ranges, or the names
// `loopback`, `linklocal` and `uniquelocal` (as Express's "trust proxy" takes them).
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** Decides whether an address (the i-th hop from the socket, 0 = the socket's peer) is a trusted proxy. */
export type TrustProxy = (address: string, hop: number) => boolean;

const NAMED: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** Why an entry of a trusted proxies list is not usable, or null when it is. */
export function checkProxyEntry(entry: string): string | null {
  if (NAMED[entry]) return null;
  const [addr, bits, extra] = entry.split('/');
  const family = isIP(addr ?? '');
  if (!family || extra !== undefined)
    return `"${entry}" is not an address, a CIDR range or one of ${Object.keys(NAMED).join(', ')}`;
  if (bits === undefined) return null;
  const n = /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  return n >= 0 && n <= (family === 4 ? 32 : 128) ? null : `"${entry}": bad prefix length`;
}

/** Strips the IPv4-mapped IPv6 prefix Node gives IPv4 peers on dual-stack sockets. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** A trust function from a list of entries (validated with checkProxyEntry first; bad entries throw). */
export function trustList(entries: readonly string[]): TrustProxy {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const e of entries.flatMap((x) => NAMED[x] ?? [x])) {
    const err = checkProxyEntry(e);
    if (err) throw new Error(err);
    const [addr, bits] = e.split('/');
    const type = isIP(addr) === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return (address) => {
    const a = plainAddress(address);
    const family = isIP(a);
    return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/** The client's address for a request, given which proxies are trusted. */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): string {
  let address = plainAddress(req.socket?.remoteAddress ?? 'unknown');
  if (!trust(address, 0)) return address;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (let i = hops.length - 1, hop = 1; i >= 0; i--, hop++) {
    const next = plainAddress(hops[i]);
    // Garbage in the header: the last proxy we trust is as far as we can tell.
    if (!isIP(next)) return address;
    address = next;
    if (!trust(address, hop)) return address;
  }
  return address;
}
