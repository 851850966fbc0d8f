// A stanza serialized once and sent to many recipients: only the `to` attribute differs between copies.
// This is the fan-out hot path (one groupchat message to thousands of occupants).
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
