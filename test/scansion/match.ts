// Compares a stanza received from the server with the one a scansion script expects.
//
// Rules (scansion's documented matching, docs/character-classes/client.md):
// - Loose mode: every attribute of the expected element must be present with the same value (extra
//   received attributes are ignored); every expected child must match some received child (extra
//   received children are ignored, order is ignored).
// - Strict mode: the attribute sets must be equal, and the children must be the same in number and
//   order.
// - Plain stanza elements (namespace jabber:client) are loose; an element that declares its own
//   namespace (a payload: <x xmlns='...muc#user'>, <query>, <delay>) is strict, and its unqualified
//   descendants inherit that. `scansion:strict='true|false'` on an expected element overrides it.
// - An attribute value `{scansion:any}` only requires the attribute to be present;
//   `{scansion:capture:NAME}` binds NAME to the received value the first time and must equal it
//   afterwards (the MAM scripts rely on that to tie archive ids to metadata ids).
// - Text: compared after trimming when the expected element has text; in strict mode an empty
//   expected element also requires an empty received one.
// Namespaces are compared after resolution (an element inherits its parent's xmlns; a top-level
// stanza defaults to jabber:client), so `xmlns` attributes themselves are not compared as attributes.
import type { Element } from 'ltx';

export const CLIENT_NS = 'jabber:client';
const ANY = '{scansion:any}';
const CAPTURE = /^\{scansion:capture:([^}]+)\}$/;
const STRICT_ATTR = 'scansion:strict';

export type Captures = Map<string, string>;

export interface MatchOptions {
  /** Expected elements to disregard entirely (waivers): return true to drop this expected child. */
  ignoreExpected?: (e: Element, ns: string) => boolean;
}

export type MatchResult = { ok: true; captures: Captures } | { ok: false; reason: string };

/** Matches `received` against `expected`; on success returns the captures (old ones plus new). */
export function matchStanza(
  expected: Element,
  received: Element,
  captures: Captures,
  opts: MatchOptions = {},
): MatchResult {
  const work = new Map(captures);
  const reason = matchElement(expected, received, CLIENT_NS, CLIENT_NS, false, work, opts, '');
  return reason === null ? { ok: true, captures: work } : { ok: false, reason };
}

function elementNs(e: Element, parentNs: string): string {
  const x = e.attrs.xmlns;
  return x !== undefined ? x : parentNs;
}

function localName(e: Element): string {
  const i = e.name.indexOf(':');
  return i >= 0 ? e.name.slice(i + 1) : e.name;
}

function isNsAttr(k: string): boolean {
  return k === 'xmlns' || k.startsWith('xmlns:');
}

function childElements(e: Element): Element[] {
  return e.children.filter((c): c is Element => typeof c !== 'string');
}

function textOf(e: Element): string {
  return e.children
    .filter((c): c is string => typeof c === 'string')
    .join('')
    .trim();
}

/** Returns null on match, else a human-readable reason with the element path. */
function matchElement(
  exp: Element,
  rec: Element,
  expParentNs: string,
  recParentNs: string,
  parentStrict: boolean,
  caps: Captures,
  opts: MatchOptions,
  path: string,
): string | null {
  const expNs = elementNs(exp, expParentNs);
  const recNs = elementNs(rec, recParentNs);
  const here = `${path}/${localName(exp)}`;
  if (localName(exp) !== localName(rec)) return `${path || '/'}: expected <${localName(exp)}>, got <${localName(rec)}>`;
  if (expNs !== recNs) return `${here}: expected namespace '${expNs}', got '${recNs}'`;

  // Strictness: explicit override, else a payload that declares its own namespace, else inherited.
  let strict = parentStrict;
  const override = exp.attrs[STRICT_ATTR];
  if (override !== undefined) strict = override !== 'false';
  else if (exp.attrs.xmlns !== undefined && expNs !== expParentNs) strict = expNs !== CLIENT_NS;

  // Attributes.
  for (const [k, v] of Object.entries(exp.attrs)) {
    if (isNsAttr(k) || k === STRICT_ATTR) continue;
    const got = rec.attrs[k];
    if (got === undefined) return `${here}: missing attribute ${k}="${v}"`;
    const r = matchValue(v, got, caps);
    if (r) return `${here}: attribute ${k}: ${r}`;
  }
  if (strict) {
    for (const k of Object.keys(rec.attrs)) {
      if (isNsAttr(k)) continue;
      if (exp.attrs[k] === undefined) return `${here}: unexpected attribute ${k}="${rec.attrs[k]}" (strict)`;
    }
  }

  // Text.
  const expText = textOf(exp);
  const recText = textOf(rec);
  if (expText || strict) {
    const r = matchValue(expText, recText, caps);
    if (r) return `${here}: text ${r}`;
  }

  // Children.
  const expKids = childElements(exp).filter((c) => !opts.ignoreExpected?.(c, elementNs(c, expNs)));
  const recKids = childElements(rec).filter((c) => !(strict && opts.ignoreExpected?.(c, elementNs(c, recNs))));
  if (strict) {
    if (expKids.length !== recKids.length) {
      return (
        `${here}: expected ${expKids.length} child element(s) [${expKids.map(localName).join(', ')}], ` +
        `got ${recKids.length} [${recKids.map(localName).join(', ')}] (strict)`
      );
    }
    for (let i = 0; i < expKids.length; i++) {
      const r = matchElement(expKids[i], recKids[i], expNs, recNs, true, caps, opts, here);
      if (r) return r;
    }
    return null;
  }
  return matchUnordered(expKids, recKids, expNs, recNs, caps, opts, here);
}

/**
 * Loose children: each expected child must match a distinct received child, in any order.
 * Backtracking over candidates keeps captures consistent; sizes are tiny (a stanza's children).
 */
function matchUnordered(
  exp: Element[],
  rec: Element[],
  expNs: string,
  recNs: string,
  caps: Captures,
  opts: MatchOptions,
  path: string,
): string | null {
  const used = new Array<boolean>(rec.length).fill(false);
  let firstFailure: string | null = null;
  const attempt = (i: number): boolean => {
    if (i === exp.length) return true;
    let triedSameName = false;
    for (let j = 0; j < rec.length; j++) {
      if (used[j]) continue;
      const trial = new Map(caps);
      const r = matchElement(exp[i], rec[j], expNs, recNs, false, trial, opts, path);
      if (r !== null) {
        if (localName(exp[i]) === localName(rec[j])) {
          triedSameName = true;
          if (!firstFailure) firstFailure = r;
        }
        continue;
      }
      used[j] = true;
      const saved = new Map(caps);
      replace(caps, trial);
      if (attempt(i + 1)) return true;
      replace(caps, saved);
      used[j] = false;
    }
    if (!triedSameName && !firstFailure)
      firstFailure = `${path}: no <${localName(exp[i])}> child (${describeNs(exp[i], expNs)})`;
    return false;
  };
  return attempt(0) ? null : (firstFailure ?? `${path}: children do not match`);
}

function describeNs(e: Element, parentNs: string): string {
  return `xmlns='${elementNs(e, parentNs)}'`;
}

function replace(target: Captures, source: Captures): void {
  target.clear();
  for (const [k, v] of source) target.set(k, v);
}

/** Compares an expected attribute value or text with the received one; null when it matches. */
function matchValue(expected: string, got: string, caps: Captures): string | null {
  if (expected === ANY) return null;
  const cap = CAPTURE.exec(expected);
  if (cap) {
    const prior = caps.get(cap[1]);
    if (prior === undefined) {
      caps.set(cap[1], got);
      return null;
    }
    return prior === got ? null : `expected captured ${cap[1]}="${prior}", got "${got}"`;
  }
  return expected === got ? null : `expected "${expected}", got "${got}"`;
}

/** Pretty XML for failure messages: one element per line, indented. */
export function pretty(e: Element, indent = ''): string {
  const attrs = Object.entries(e.attrs)
    .map(([k, v]) => ` ${k}="${v}"`)
    .join('');
  const kids = childElements(e);
  const text = textOf(e);
  if (!kids.length) return text ? `${indent}<${e.name}${attrs}>${text}</${e.name}>` : `${indent}<${e.name}${attrs}/>`;
  const inner = kids.map((k) => pretty(k, indent + '  ')).join('\n');
  return `${indent}<${e.name}${attrs}>${text ? `\n${indent}  ${text}` : ''}\n${inner}\n${indent}</${e.name}>`;
}
