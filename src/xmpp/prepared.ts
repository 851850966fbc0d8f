// A stanza serialized once and sent to many recipients: only the `to` attribute differs between copies.
// This is the fan-out hot path (one groupchat message to thousands of occupants).
import { parse } from 'ltx';
import { cloneElement, Element, escapeXML } from './xml.js';
import { NS } from './namespaces.js';

export class PreparedStanza {
  private clientHead = '';
  private clientTail = '';
  private serverHead = '';
  private serverTail = '';

  /** `element` must carry a `from`; its `to` and `xmlns` are ignored. It must not be mutated afterwards. */
  constructor(readonly element: Element) {}

  get name(): string { return this.element.name; }

  /** Serialization for a client stream (jabber:client), with `to` spliced in. */
  forClient(to: string): string {
    if (!this.clientHead) [this.clientHead, this.clientTail] = this.split(NS.CLIENT);
    return this.clientHead + escapeXML(to) + this.clientTail;
  }

  /** Serialization for a server-to-server stream (jabber:server). */
  forServer(to: string): string {
    if (!this.serverHead) [this.serverHead, this.serverTail] = this.split(NS.SERVER);
    return this.serverHead + escapeXML(to) + this.serverTail;
  }

  /** A standalone element with `to` set, for paths that need a tree rather than bytes. */
  toElement(to: string): Element {
    const copy = cloneElement(this.element);
    copy.attrs.to = to;
    return copy;
  }

  private split(xmlns: string): [string, string] {
    const { to: _to, xmlns: _ns, ...rest } = this.element.attrs;
    const bare = new Element(this.element.name, rest);
    bare.children = this.element.children;
    const body = bare.toString(); // "<name a=..>...</name>" or "<name a=../>"
    const head = `<${this.element.name} xmlns="${xmlns}" to="`;
    return [head, '"' + body.slice(this.element.name.length + 1)];
  }
}

/**
 * An element serialized once and embedded as is in any number of stanzas: the `<vCard/>` of an avatar is the
 * same bytes in every answer, only the enclosing iq's id/from/to differ. ltx calls `write` on child elements, so
 * the cached text is copied into the output without walking or escaping the tree again. The parsed tree is kept
 * too, so code that inspects or clones it sees the real content. Must not be mutated.
 */
export class PreSerializedElement extends Element {
  // ltx's clone() calls the constructor without `xml`: such a copy is an ordinary element.
  private constructor(name: string, attrs: Record<string, string>, readonly xml?: string) {
    super(name, attrs);
  }

  /** Parses `xml` once (its root becomes this element) and keeps the text for serialization. */
  static of(xml: string): PreSerializedElement {
    const tree = parse(xml);
    const e = new PreSerializedElement(tree.name, tree.attrs, xml);
    e.children = tree.children;
    return e;
  }

  override write(writer: (s: string) => void): void {
    if (this.xml === undefined) super.write(writer);
    else writer(this.xml);
  }

  override toString(): string { return this.xml ?? super.toString(); }
}
