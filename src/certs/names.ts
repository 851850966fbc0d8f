// Host names as certificates and SNI carry them, and an index that finds the certificate for a name.
import type { X509Certificate } from 'node:crypto';

const HOST_RE = /^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

/** Lower-case, no trailing dot: the form SNI, SAN entries and our config are compared in. */
export function normalizeName(name: string): string {
  const s = name.trim().toLowerCase();
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

/** DNS names a certificate is valid for: its subjectAltName DNS entries, or its CN when it has none (RFC 6125 §6.4.4). */
export function certNames(x509: X509Certificate): string[] {
  const out = new Set<string>();
  const san = x509.subjectAltName;
  if (san) {
    // Node writes "DNS:a, DNS:b, IP Address:…"; values with odd characters come quoted and are no host names anyway.
    for (const m of san.matchAll(/(?:^|, )DNS:([^,"\s]+)(?=,|$)/g)) {
      const n = normalizeName(m[1]);
      if (HOST_RE.test(n)) out.add(n);
    }
  }
  if (out.size === 0) {
    const cn = /^CN=(.*)$/m.exec(x509.subject)?.[1];
    if (cn && HOST_RE.test(normalizeName(cn))) out.add(normalizeName(cn));
  }
  return [...out];
}

/** Exact names first, then one-label wildcards (`*.example.com` covers `a.example.com`, not `example.com` or `b.a.example.com`). */
export class NameIndex<T> {
  private readonly exact = new Map<string, T>();
  private readonly wild = new Map<string, T>();

  /** Adds `value` under `name`; when a name is already taken, `better(old, new)` decides who keeps it. */
  add(name: string, value: T, better: (old: T, candidate: T) => boolean): void {
    const map = name.startsWith('*.') ? this.wild : this.exact;
    const key = name.startsWith('*.') ? name.slice(2) : name;
    const old = map.get(key);
    if (old === undefined || better(old, value)) map.set(key, value);
  }

  get(host: string): T | undefined {
    const n = normalizeName(host);
    const hit = this.exact.get(n);
    if (hit !== undefined) return hit;
    const dot = n.indexOf('.');
    return dot > 0 ? this.wild.get(n.slice(dot + 1)) : undefined;
  }
}
