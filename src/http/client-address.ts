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

/** An IPv4 address as an unsigned 32-bit number, or -1 when it is not one in dotted-quad form. */
function ipv4Number(a: string): number {
  const parts = a.split('.');
  if (parts.length !== 4) return -1;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return -1;
    n = n * 256 + Number(p);
  }
  return n;
}

/**
 * A trust function from a list of entries (validated with checkProxyEntry first; bad entries throw). IPv4 ranges are
 * matched as numbers: Node's BlockList builds a SocketAddress per check (asked once or twice per connection, ~20 ms of
 * a 400-viewer storm's sampled main thread); it still answers for IPv6.
 */
export function trustList(entries: readonly string[]): TrustProxy {
  if (entries.length === 0) return () => false;
  const v6 = new BlockList();
  /** IPv4 ranges as [network, mask], both unsigned. */
  const v4: Array<[number, number]> = [];
  for (const e of entries.flatMap((x) => NAMED[x] ?? [x])) {
    const err = checkProxyEntry(e);
    if (err) throw new Error(err);
    const [addr, bits] = e.split('/');
    if (isIP(addr) === 4) {
      const prefix = bits === undefined ? 32 : Number(bits);
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      v4.push([(ipv4Number(addr) & mask) >>> 0, mask]);
    } else if (bits === undefined) v6.addAddress(addr, 'ipv6');
    else v6.addSubnet(addr, Number(bits), 'ipv6');
  }
  return (address) => {
    const a = plainAddress(address);
    const n = ipv4Number(a);
    if (n >= 0) return v4.some(([net, mask]) => (n & mask) >>> 0 === net);
    return isIP(a) === 6 && v6.check(a, 'ipv6');
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

/**
 * Node's socket keeps the peer address object its `remoteAddress` was read from (`_peername`, ~56 B) for the socket's
 * life. A viewer's WebSocket reads it once, at the upgrade, and keeps the address string: the object goes (a later
 * read asks the socket again).
 */
export function forgetPeerAddress(socket: unknown): void {
  const s = socket as { _peername?: unknown };
  if (s._peername !== undefined) s._peername = undefined;
}
