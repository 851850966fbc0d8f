// JIDs: parsing and normalization on top of @xmpp/jid, which does RFC 6122 splitting and XEP-0106 escaping.
import { JID, jid as makeJid } from '@xmpp/jid';

export { JID };

const MAX_PART_BYTES = 1023;

// The same few thousand addresses (viewers, rooms, occupants) are parsed on every stanza, and @xmpp/jid scans each
// local part for XEP-0106 escapes on every parse (a tenth of a join storm's CPU in a profile). Parsed JIDs are kept,
// frozen so no caller can change a shared one; the table is emptied when full rather than tracking use.
// Bounded in entries and in address length, so a client sending to many long made-up addresses cannot grow it past
// a few MB.
const MEMO_MAX = 20_000;
const MEMO_MAX_LENGTH = 200;
const memo = new Map<string, JID | null>();

/**
 * Parses an address; returns null when it is not a valid JID (so callers answer jid-malformed). `keep: false` parses
 * without adding to the memo, for addresses seen about once each (a viewer's join presence to its room nick: kept,
 * those would be an entry of ~220 B per seated viewer).
 */
export function parseJid(address: string | undefined | null, keep = true): JID | null {
  if (!address) return null;
  if (address.length > MEMO_MAX_LENGTH) return parse(address);
  if (!keep) return memo.get(address) ?? parse(address);
  let j = memo.get(address);
  if (j !== undefined) return j;
  // An address read from a stanza is a slice of the whole message text it came in, and so are the parts of a JID
  // parsed from it: a kept JID (or a nick taken from it) would keep that message alive. Kept ones get their own copy.
  const own = ownCopy(address);
  j = parse(own);
  if (j) Object.freeze(j);
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(own, j);
  return j;
}

/** How many parsed addresses the memo holds (metrics, tests). */
export function memoizedJids(): number {
  return memo.size;
}

/** Room to copy strings through (ownCopy); longer ones take the JSON round trip. */
const copyBuffer = Buffer.allocUnsafeSlow(1024);

/**
 * A flat copy of a string, sharing no storage with a larger one: V8 makes slices of 13 characters or more views of
 * their parent, which a kept slice keeps alive (slicing a concatenation, the usual trick, still leaves a 32-byte view
 * on a copy). Through a scratch buffer it is one new string (~120 ns for a 43-character request id, where a JSON
 * round trip makes two in ~250 ns: 20–35 ms of a 400-viewer storm's sampled main thread for its ~50,000 copies).
 */
export function ownCopy(s: string): string {
  if (s.length < 13) return s;
  if (s.length * 3 > copyBuffer.length) return JSON.parse(JSON.stringify(s)) as string;
  const n = copyBuffer.write(s, 0, 'utf8');
  if (n === s.length) return copyBuffer.toString('latin1', 0, n); // ASCII: no decoding
  const copy = copyBuffer.toString('utf8', 0, n);
  // A lone surrogate does not survive UTF-8: such a string takes the round trip that keeps it as it is.
  return copy === s ? copy : (JSON.parse(JSON.stringify(s)) as string);
}

function parse(address: string): JID | null {
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

/** Bare forms of long-lived JIDs (a bound session's), each made once and frozen like the JID it comes from. */
const bares = new WeakMap<JID, JID>();

/**
 * `j.bare()` without a new JID per call: @xmpp/jid scans the local part for XEP-0106 escapes again on every
 * construction, and a session's stanzas to its own account (roster, vCard, answers to pings) each needed one.
 */
export function bareOf(j: JID): JID {
  if (!j.resource) return j;
  let b = bares.get(j);
  if (b === undefined) {
    b = Object.freeze(j.bare());
    bares.set(j, b);
  }
  return b;
}

/** `j.bare().toString()` without making the bare JID. */
export function bareString(j: JID): string {
  return j.local ? `${j.local}@${j.domain}` : j.domain;
}
