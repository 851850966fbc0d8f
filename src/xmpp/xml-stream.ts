// Incremental XML stream parsing with XMPP's limits (RFC 6120 §11). saxes does the strict tokenizing (it reports
// DTDs, comments and processing instructions, which ltx's lenient parser silently skips); we build ltx elements.
import { SaxesParser } from 'saxes';
import type { SaxesTagPlain } from 'saxes';
import { Element, attrString } from './xml.js';
import { StreamError } from './errors.js';

export interface StreamParserHandler {
  /** TCP streams: the `<stream:stream>` header was read. */
  streamOpened?(attrs: Record<string, string>): void;
  /** A complete top-level element (a stanza, or a framing/negotiation element). */
  element(el: Element): void;
  /** TCP streams: `</stream:stream>` was read. */
  streamClosed?(): void;
}

export interface StreamParserOptions {
  /** Largest top-level element, in characters. */
  maxStanzaSize: number;
  /**
   * Framed mode (RFC 7395 WebSocket, BOSH bodies' children): input is a sequence of whole elements with no stream
   * root. A virtual root keeps one parser per connection.
   */
  framed: boolean;
  /** Namespace given to top-level elements that carry none (the stream's default, e.g. jabber:client). */
  defaultNs?: string;
  /** Largest element nesting depth inside a stanza. */
  maxDepth?: number;
  /**
   * Framed mode: namespace declarations on the virtual root, so that frames using a prefix they do not declare
   * (livechat's `db:` elements over XEP-0468) still resolve it with getNS().
   */
  rootAttrs?: Record<string, string>;
}

const XML_DECL = /^\s*<\?xml\s[^?]*\?>/;

export class XmlStreamParser {
  private parser!: SaxesParser<{}>;
  private stack: Element[] = [];
  private stanzaStart = 0;
  private failed = false;
  private fed = false;

  constructor(private handler: StreamParserHandler, private opts: StreamParserOptions) {
    this.reset();
  }

  /** Starts a new stream (after STARTTLS or SASL success on TCP): RFC 6120 §4.3.3 stream restart. */
  reset(): void {
    this.stack = [];
    this.failed = false;
    this.fed = false;
    const p = new SaxesParser({ xmlns: false, position: true });
    p.on('opentag', (t) => this.open(t));
    p.on('closetag', () => this.close());
    p.on('text', (t) => this.text(t));
    p.on('cdata', (t) => this.text(t));
    p.on('doctype', () => { throw new StreamError('restricted-xml', 'DTDs are not allowed'); });
    p.on('comment', () => { throw new StreamError('restricted-xml', 'comments are not allowed'); });
    p.on('processinginstruction', () => { throw new StreamError('restricted-xml', 'processing instructions are not allowed'); });
    p.on('error', (e) => { throw new StreamError(/entit|doctype/i.test(e.message) ? 'restricted-xml' : 'not-well-formed', e.message.slice(0, 200)); });
    this.parser = p;
    if (this.opts.framed) p.write(`<framed${attrString(this.opts.rootAttrs ?? {})}>`);
  }

  /** Feeds data; throws StreamError when the input breaks XMPP's rules (the stream must then be closed). */
  write(chunk: string): void {
    if (this.failed) return;
    try {
      if (!this.fed || this.opts.framed) {
        // An XML declaration may start a stream (and, leniently, a WebSocket frame); saxes only takes it at offset 0.
        const decl = XML_DECL.exec(chunk);
        if (decl) chunk = chunk.slice(decl[0].length);
        this.fed = true;
      }
      this.parser.write(chunk);
      const depth = this.stack.length - (this.opts.framed ? 1 : 0);
      // An element still open after the chunk: check it is not growing without bound.
      if (depth > 1 || (depth === 1 && this.stanzaStart >= 0)) this.checkSize();
    } catch (err) {
      this.failed = true;
      if (err instanceof StreamError) throw err;
      throw new StreamError('not-well-formed', (err as Error).message.slice(0, 200));
    }
  }

  /** Framed mode: true when every element fed so far is complete (RFC 7395 wants whole elements per message). */
  get atElementBoundary(): boolean {
    return this.stack.length === (this.opts.framed ? 1 : 0) || (!this.opts.framed && this.stack.length === 1);
  }

  private get topLevel(): number {
    return 1; // depth at which an element is a stanza: under the stream root (real or virtual)
  }

  private open(tag: SaxesTagPlain): void {
    const attrs = tag.attributes as Record<string, string>;
    if (this.stack.length === 0) {
      if (this.opts.framed) {
        this.stack.push(new Element('framed', this.opts.rootAttrs));
        return;
      }
      // TCP stream root
      const root = new Element(tag.name, attrs);
      this.stack.push(root);
      this.handler.streamOpened?.(attrs);
      if (tag.isSelfClosing) this.close();
      return;
    }
    const depth = this.stack.length;
    if (depth === this.topLevel) {
      this.stanzaStart = this.parser.position;
      if (attrs.xmlns === undefined && this.opts.defaultNs && !tag.name.includes(':')) attrs.xmlns = this.opts.defaultNs;
    } else if (this.opts.maxDepth && depth > this.opts.maxDepth) {
      throw new StreamError('policy-violation', 'elements nested too deeply');
    }
    const el = new Element(tag.name, attrs);
    if (depth > this.topLevel) this.stack[depth - 1].append(el);
    this.stack.push(el);
  }

  private close(): void {
    const el = this.stack.pop()!;
    const depth = this.stack.length;
    if (depth === 0) {
      if (!this.opts.framed) this.handler.streamClosed?.();
      return;
    }
    if (depth === this.topLevel) {
      this.checkSize();
      this.stanzaStart = -1;
      // Namespaced prefixes (stream:features etc.) resolve against the stream root: keep the link for getNS().
      el.parent = this.opts.framed && !this.opts.rootAttrs ? null : this.stack[0];
      this.handler.element(el);
      el.parent = null;
    }
  }

  private text(t: string): void {
    const depth = this.stack.length;
    if (depth > this.topLevel) this.stack[depth - 1].t(t);
    else if (t.trim()) throw new StreamError('not-well-formed', 'text outside of a stanza');
  }

  private checkSize(): void {
    if (this.stanzaStart >= 0 && this.parser.position - this.stanzaStart > this.opts.maxStanzaSize) {
      throw new StreamError('policy-violation', `stanza larger than ${this.opts.maxStanzaSize} bytes`);
    }
  }
}
