// The common framed message — one stanza made of plain elements, attributes and text — parsed in one pass without
// saxes. saxes stays the parser of record: this one takes only input that is certainly well-formed XML within a
// small subset, and returns null for anything else (comments, CDATA, processing instructions, DTDs, character
// references, prefixed names, non-ASCII names, CR, control characters, surrogates, duplicate attributes, nesting
// past the limit, a second element, a stray `&` or `<`...), so the caller hands that message to saxes, which parses
// it or reports the right stream error. What it returns is the tree the saxes path builds from the same text.
//
// Why: a viewer's requests (vCards, disco, MAM) are small messages, and saxes' general state machine and the
// per-message parser lease cost ~15 µs each, more than answering most of them.
import { Element } from './xml.js';

const LT = 60; // <
const GT = 62; // >
const SLASH = 47;
const AMP = 38;
const EQ = 61;
const DQ = 34;
const SQ = 39;
const RSQB = 93; // ]

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9; // CR is left to saxes (end-of-line normalization)
}
function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57) || c === 45 || c === 46;
}

/** The five predefined entities (RFC 6120 §11.1 allows no others); `i` points after the `&`. */
function entityAt(s: string, i: number): string | null {
  switch (s.charCodeAt(i)) {
    case 97: // a
      if (s.startsWith('amp;', i)) return '&';
      if (s.startsWith('apos;', i)) return "'";
      return null;
    case 108: // l
      return s.startsWith('lt;', i) ? '<' : null;
    case 103: // g
      return s.startsWith('gt;', i) ? '>' : null;
    case 113: // q
      return s.startsWith('quot;', i) ? '"' : null;
    default:
      return null;
  }
}

/** Length of an entity's source text (`&amp;` is 5) by its replacement. */
function entityLength(r: string): number {
  return r === '&' ? 5 : r === "'" || r === '"' ? 6 : 4;
}

/**
 * Parses `s` when it is exactly one element (surrounding spaces, tabs and newlines allowed) within the subset.
 * `maxDepth`: deepest nesting allowed, counting the virtual root as the parser does (0: no limit); `defaultNs` goes
 * on a top-level element without xmlns.
 */
export function parseSimpleFrame(s: string, maxDepth: number, defaultNs: string | undefined): Element | null {
  const n = s.length;
  let i = 0;
  while (i < n && isSpace(s.charCodeAt(i))) i++;
  if (s.charCodeAt(i) !== LT) return null;
  const stack: Element[] = [];
  let root: Element;
  // At a `<`.
  for (;;) {
    i++;
    if (s.charCodeAt(i) === SLASH) {
      // End tag: the same name as the open element, optional spaces, `>`.
      i++;
      const open = stack.pop();
      if (!open) return null;
      const name = open.name;
      if (!s.startsWith(name, i)) return null;
      i += name.length;
      if (isNameChar(s.charCodeAt(i))) return null; // a longer name
      while (i < n && isSpace(s.charCodeAt(i))) i++;
      if (s.charCodeAt(i) !== GT) return null;
      i++;
      if (stack.length === 0) {
        root = open;
        break;
      }
    } else {
      // Start tag.
      const start = i;
      if (!isNameStart(s.charCodeAt(i))) return null; // also `<!`, `<?`, and the end of input
      i++;
      while (isNameChar(s.charCodeAt(i))) i++;
      const name = s.slice(start, i);
      const attrs: Record<string, string> = {};
      let selfClosing = false;
      for (;;) {
        const before = i;
        while (i < n && isSpace(s.charCodeAt(i))) i++;
        const c = s.charCodeAt(i);
        if (c === GT) {
          i++;
          break;
        }
        if (c === SLASH) {
          if (s.charCodeAt(i + 1) !== GT) return null;
          i += 2;
          selfClosing = true;
          break;
        }
        // An attribute, which must follow whitespace.
        if (i === before || !isNameStart(c)) return null;
        const a = i;
        i++;
        while (isNameChar(s.charCodeAt(i))) i++;
        const key = s.slice(a, i);
        while (i < n && isSpace(s.charCodeAt(i))) i++;
        if (s.charCodeAt(i) !== EQ) return null;
        i++;
        while (i < n && isSpace(s.charCodeAt(i))) i++;
        const q = s.charCodeAt(i);
        if (q !== DQ && q !== SQ) return null;
        i++;
        let from = i;
        let value = '';
        for (;;) {
          if (i >= n) return null;
          const v = s.charCodeAt(i);
          if (v === q) break;
          // `<` is not allowed; tabs and newlines would be normalized to spaces, other controls are not XML
          if (v < 32 || v === LT || v >= 0xd800) return null;
          if (v === AMP) {
            const r = entityAt(s, i + 1);
            if (r === null) return null;
            value += s.slice(from, i) + r;
            i += entityLength(r);
            from = i;
            continue;
          }
          i++;
        }
        value += s.slice(from, i);
        i++;
        // A duplicate is not well-formed; inherited names (constructor, __proto__) are left to saxes too.
        if (attrs[key] !== undefined) return null;
        attrs[key] = value;
      }
      const depth = stack.length + 1; // under the virtual root
      if (depth === 1) {
        if (attrs.xmlns === undefined && defaultNs) attrs.xmlns = defaultNs;
      } else if (maxDepth && depth > maxDepth) return null;
      const el = new Element(name);
      el.attrs = attrs;
      if (depth > 1) stack[depth - 2]!.cnode(el);
      if (selfClosing) {
        if (depth === 1) {
          root = el;
          break;
        }
      } else stack.push(el);
    }
    // Content up to the next `<`: text with the predefined entities; `]]>` is not allowed in it.
    let from = i;
    let text = '';
    for (;;) {
      if (i >= n) return null;
      const c = s.charCodeAt(i);
      if (c === LT) break;
      if (c < 32) {
        if (c !== 10 && c !== 9) return null;
      } else if (c >= 0xd800) return null;
      else if (c === AMP) {
        const r = entityAt(s, i + 1);
        if (r === null) return null;
        text += s.slice(from, i) + r;
        i += entityLength(r);
        from = i;
        continue;
      } else if (c === GT && s.charCodeAt(i - 1) === RSQB && s.charCodeAt(i - 2) === RSQB && i - 2 >= from) return null;
      i++;
    }
    text += s.slice(from, i);
    if (text) stack[stack.length - 1]!.children.push(text);
  }
  while (i < n && isSpace(s.charCodeAt(i))) i++;
  return i === n ? root : null;
}
