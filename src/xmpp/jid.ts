// JIDs: parsing and normalization on top of @xmpp/jid, which does RFC 6122 splitting and XEP-0106 escaping.
import { JID, jid as makeJid } from '@xmpp/jid';

export { JID };

const MAX_PART_BYTES = 1023;

/** Parses an address; returns null when it is not a valid JID (so callers answer jid-malformed). */
export function parseJid(address: string | undefined | null): JID | null {
  if (!address) return null;
  try {
    const j = makeJid(address);
    if (!j.domain || j.domain.includes('@') || /\s/.test(j.domain)) return null;
    if (Buffer.byteLength(j.domain) > MAX_PART_BYTES) return null;
    if (j.local && Buffer.byteLength(j.local) > MAX_PART_BYTES) return null;
    if (j.resource && Buffer.byteLength(j.resource) > MAX_PART_BYTES) return null;
    if (address.endsWith('@') || address.startsWith('@') || address.endsWith('/')) return null;
    return j;
  } catch {
    return null;
  }
}

export function jidOf(local: string | null | undefined, domain: string, resource?: string | null): JID {
  return makeJid(local ?? null, domain, resource ?? null);
}

export function bareString(j: JID): string {
  return j.local ? `${j.local}@${j.domain}` : j.domain;
}
