// Thin helpers over ltx elements: building, escaping and serializing stanzas.
import { Element, clone, escapeXML, escapeXMLText } from 'ltx';

export { Element, escapeXML, escapeXMLText };

/** An attribute value: most (ids, JIDs) need no escaping, and a scan for the five characters costs less than replace(). */
export function escapeAttr(v: string): string {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    // " & ' < >
    if (c === 34 || c === 38 || c === 39 || c === 60 || c === 62) return escapeXML(v);
  }
  return v;
}

type Attrs = Record<string, string | number | undefined | null>;

/**
 * Builds an element; undefined/null attributes are left out. The values go straight into the element's own `attrs`
 * (ltx would copy a cleaned object once more): half the time of the copy-and-assign, on every stanza the server builds.
 */
export function el(
  name: string,
  attrs?: Attrs,
  ...children: Array<Element | string | undefined | null | false>
): Element {
  const e = new Element(name);
  if (attrs !== undefined) {
    const own = e.attrs as Record<string, string>;
    for (const k in attrs) {
      const v = attrs[k];
      if (v !== undefined && v !== null) own[k] = typeof v === 'string' ? v : String(v);
    }
  }
  for (const c of children) if (c !== undefined && c !== null && c !== false) e.append(c);
  return e;
}

/** First child element (the payload of an iq). */
export function firstChildElement(e: Element): Element | undefined {
  for (const c of e.children) if (typeof c !== 'string') return c;
  return undefined;
}

/** A deep copy, detached from any parent. */
export function cloneElement(e: Element): Element {
  const c = clone(e);
  c.parent = null;
  return c;
}

/** Serializes attributes as ` k="v"` pairs, escaping values. */
export function attrString(attrs: Record<string, string | undefined>): string {
  let s = '';
  for (const k in attrs) {
    const v = attrs[k];
    if (v !== undefined) s += ' ' + k + '="' + escapeXML(v) + '"';
  }
  return s;
}
