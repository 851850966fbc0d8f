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
const WHITESPACE = /^[ \t\r\n]*$/;
// What may follow an `&` in a stream: only the predefined entities and character references (RFC 6120 §11.1).
// saxes collects everything up to the next `;` as the entity name, so a stray `&` would make it buffer the rest of
// the stream; a pending reference that cannot become one of these ends the stream instead.
const ENTITY_PREFIX = /^(?:#(?:x[0-9A-Fa-f]{0,6}|[0-9]{0,7})|[a-z]{0,4})$/;

/** saxes' buffer of the entity reference being read (not part of its typed API). */
function pendingEntity(p: SaxesParser): string {
  const v = (p as unknown as { entity?: unknown }).entity;
  if (typeof v !== 'string')
    throw new Error('saxes no longer exposes its pending entity: xml-stream.ts needs updating');
  return v;
}

/** A saxes error as a stream error: an entity other than the predefined ones is restricted XML (RFC 6120 §11.1). */
function saxesError(e: Error): StreamError {
  const restricted = /undefined entity|doctype/i.test(e.message);
  return new StreamError(restricted ? 'restricted-xml' : 'not-well-formed', e.message.slice(0, 200));
}

/**
 * The prototype of elements' attribute objects: an object made by Object.create with it has fast properties, and
 * inherits nothing, so an attribute named `toString`, `constructor` or `__proto__` is an attribute like any other
 * (saxes finds duplicates by `attributes[name] !== undefined`; inheriting from Object.prototype, those names would be
 * refused as duplicates, and `__proto__` would set the prototype instead).
 */
const NOTHING_INHERITED: object = Object.freeze(Object.create(null) as object);

/** The handler fields saxes' `on()` fills (private in its typings). */
interface HandlerSlots {
  openTagStartHandler?: (tag: SaxesTagPlain) => void;
  openTagHandler?: (tag: SaxesTagPlain) => void;
  closeTagHandler?: () => void;
  textHandler?: (text: string) => void;
  cdataHandler?: (text: string) => void;
  doctypeHandler?: () => void;
  commentHandler?: () => void;
  piHandler?: () => void;
}

/**
 * saxes' handlers, set by name. `on()` stores each one with a computed key, and V8 turns an object into dictionary
 * mode once computed-key stores have added a dozen properties it keeps outside the object: with an eighth handler
 * the parser did, every field read in its tokenizer became a hash lookup, and a stanza took three times as long to
 * parse. Stores by name are allowed far more (test/core/parser-shape.test.ts checks the shape).
 */
function handlerSlots(p: SaxesParser): HandlerSlots {
  const probe = (): void => {};
  p.on('opentagstart', probe);
  if ((p as unknown as HandlerSlots).openTagStartHandler !== probe)
    throw new Error('saxes no longer keeps handlers in the fields xml-stream.ts sets: it needs updating');
  return p as unknown as HandlerSlots;
}

/**
 * One saxes parser and the stream it is currently parsing for. A framed stream (WebSocket, BOSH) sits at an element
 * boundary between messages, where every framed parser with the same virtual root is in the same state, so idle
 * framed streams hold no parser: they lease one from a shared pool for the length of a write (a saxes parser is
 * ~4.7 KB of heap, most of an idle connection otherwise).
 */
class SaxLease {
  owner: XmlStreamParser | null = null;
  /** Characters given to this parser so far (its `position` is only exact inside its callbacks). */
  fed = 0;
  readonly p: SaxesParser;

  /**
   * The open elements and the prefixes each declares (xmlns:p, for RFC 6120 §11.2), kept with the parser: a framed
   * stream between messages holds neither (every framed one is then at the same virtual root).
   */
  constructor(
    readonly stack: Element[],
    readonly scopes: Array<string[] | null>,
  ) {
    const p = new SaxesParser({ xmlns: false, position: true });
    const h = handlerSlots(p);
    // Each tag's attributes go into an object of ours instead of saxes' Object.create(null) one, which V8 keeps in
    // dictionary mode: copying that into an ltx element cost ~0.7 µs per element (5% of the join storm). Ours
    // becomes the element's `attrs` as it is, with no copy (saxOpen).
    h.openTagStartHandler = (t) => {
      t.attributes = Object.create(NOTHING_INHERITED) as Record<string, string>;
    };
    h.openTagHandler = (t) => this.owner?.saxOpen(t);
    h.closeTagHandler = () => this.owner?.saxClose();
    h.textHandler = (t) => this.owner?.saxText(t);
    h.cdataHandler = (t) => this.owner?.saxText(t);
    h.doctypeHandler = () => {
      throw new StreamError('restricted-xml', 'DTDs are not allowed');
    };
    h.commentHandler = () => {
      throw new StreamError('restricted-xml', 'comments are not allowed');
    };
    h.piHandler = () => {
      throw new StreamError('restricted-xml', 'processing instructions are not allowed');
    };
    // No error handler: saxes then throws its error, which XmlStreamParser.write turns into a stream error.
    this.p = p;
  }

  write(chunk: string): void {
    this.fed += chunk.length;
    this.p.write(chunk);
  }
}

/** Idle framed parsers by virtual root; bounded, since only concurrent writes need more than one. */
const pool = new Map<string, SaxLease[]>();
const POOL_MAX = 16;

function leaseFramed(root: string, attrs: Record<string, string> | undefined): SaxLease {
  const l = pool.get(root)?.pop();
  if (l) return l;
  const fresh = new SaxLease([framedRoot(root, attrs)], [rootPrefixes(attrs)]);
  fresh.write(root);
  return fresh;
}

function releaseFramed(root: string, l: SaxLease): void {
  l.owner = null;
  let list = pool.get(root);
  if (!list) pool.set(root, (list = []));
  if (list.length < POOL_MAX) list.push(l);
}

/** The virtual root element of framed streams (shared: top-level elements only point to it, for getNS()). */
const roots = new Map<string, Element>();
function framedRoot(root: string, attrs: Record<string, string> | undefined): Element {
  let e = roots.get(root);
  if (!e) roots.set(root, (e = new Element('framed', attrs)));
  return e;
}

function rootPrefixes(attrs: Record<string, string> | undefined): string[] | null {
  const out = Object.keys(attrs ?? {})
    .filter((k) => k.startsWith('xmlns:'))
    .map((k) => k.slice(6));
  return out.length ? out : null;
}

export class XmlStreamParser {
  /** The saxes parser in use: always held on a TCP stream, only during a write on a framed one. */
  private lease: SaxLease | null = null;
  private get parser(): SaxesParser {
    return this.lease!.p;
  }
  /** Open elements (the parser's; only read while it is held). */
  private get stack(): Element[] {
    return this.lease!.stack;
  }
  /** Prefixes each open element declares, for RFC 6120 §11.2 namespace well-formedness. */
  private get scopes(): Array<string[] | null> {
    return this.lease!.scopes;
  }
  /**
   * Parser position where the current top-level element began or may begin: everything after it (parsed or still
   * buffered inside saxes: an open start tag, an entity, a comment) counts toward the stanza size limit.
   */
  private boundary = 0;
  /** Nothing but whitespace pending between top-level elements: a whitespace-only chunk (a keepalive) need not reach saxes. */
  private idle = false;
  /** Characters given to saxes, in the coordinates of the parser in use. */
  private fedChars = 0;
  private failed = false;
  private fed = false;
  /** Framed mode: the virtual root's text, the pool key. */
  private readonly root: string;

  constructor(
    private handler: StreamParserHandler,
    private opts: StreamParserOptions,
  ) {
    this.root = !opts.framed ? '' : opts.rootAttrs ? `<framed${attrString(opts.rootAttrs)}>` : '<framed>';
    this.reset();
  }

  /** Starts a new stream (after STARTTLS or SASL success on TCP): RFC 6120 §4.3.3 stream restart. */
  reset(): void {
    this.failed = false;
    this.fed = false;
    this.boundary = 0;
    this.idle = false;
    this.fedChars = 0;
    if (this.lease) this.lease.owner = null; // a parser left mid-element is not reused
    this.lease = null;
    if (this.opts.framed) {
      // At a boundary under the virtual root, holding no parser until the next write.
      this.idle = true;
      return;
    }
    this.lease = new SaxLease([], []);
    this.lease.owner = this;
  }

  /** Feeds data; throws StreamError when the input breaks XMPP's rules (the stream must then be closed). */
  write(chunk: string): void {
    if (this.failed) return;
    try {
      // A chunk starting with `<` and not `<?` (nearly every framed message) needs neither test below.
      const plain = chunk.charCodeAt(0) === 60 && chunk.charCodeAt(1) !== 63;
      if (!this.fed || this.opts.framed) {
        // An XML declaration may start a stream (and, leniently, a WebSocket frame); saxes only takes it at offset 0.
        const decl = plain ? null : XML_DECL.exec(chunk);
        if (decl) chunk = chunk.slice(decl[0].length);
        this.fed = true;
      }
      // Keepalive whitespace between stanzas: nothing to parse, and it must not add up toward the size limit.
      if (this.idle && !plain && WHITESPACE.test(chunk)) return;
      if (!this.lease) {
        const l = leaseFramed(this.root, this.opts.rootAttrs);
        l.owner = this;
        this.lease = l;
        this.fedChars = this.boundary = l.fed;
      }
      this.idle = false;
      this.fedChars += chunk.length;
      this.lease.write(chunk);
      const entity = pendingEntity(this.lease.p);
      if (entity && !ENTITY_PREFIX.test(entity))
        throw new StreamError('not-well-formed', 'an & that does not start an entity or character reference');
      // Whatever is not yet a complete top-level element must stay under the size limit, parsed or not.
      this.checkSize(this.fedChars);
      // Idle when the chunk ended on a boundary, or with only whitespace after it (saxes then sits in text state).
      const pending = this.fedChars - this.boundary;
      this.idle =
        this.stack.length === this.topLevel &&
        (pending === 0 || (pending <= chunk.length && WHITESPACE.test(chunk.slice(chunk.length - pending))));
      // Back at a boundary with nothing buffered in saxes (trailing whitespace is only text): the parser is free.
      if (this.opts.framed && this.idle && this.lease.owner === this) {
        const l = this.lease;
        this.lease = null;
        releaseFramed(this.root, l);
      }
    } catch (err) {
      this.failed = true;
      if (this.lease) this.lease.owner = null; // a parser that failed is dropped
      if (err instanceof StreamError) throw err;
      throw saxesError(err as Error);
    }
  }

  /**
   * Framed mode: true when every element fed so far is complete and nothing else (text, a stray `&`, a start tag)
   * is pending (RFC 7395 wants whole elements per message).
   */
  get atElementBoundary(): boolean {
    // A framed stream holds no parser only at a boundary.
    return this.idle && (!this.lease || this.stack.length === this.topLevel);
  }

  private get topLevel(): number {
    return 1; // depth at which an element is a stanza: under the stream root (real or virtual)
  }

  /** saxes callbacks (through the lease). */
  saxOpen(tag: SaxesTagPlain): void {
    const attrs = tag.attributes as Record<string, string>;
    this.checkNamespaces(tag.name, attrs);
    if (this.stack.length === 0) {
      if (this.opts.framed) {
        this.stack.push(framedRoot(this.root, this.opts.rootAttrs));
        this.atBoundary();
        return;
      }
      // TCP stream root
      const root = new Element(tag.name, attrs);
      this.stack.push(root);
      this.atBoundary();
      this.handler.streamOpened?.(attrs);
      if (tag.isSelfClosing) this.saxClose();
      return;
    }
    const depth = this.stack.length;
    if (depth === this.topLevel) {
      if (attrs.xmlns === undefined && this.opts.defaultNs && !tag.name.includes(':'))
        attrs.xmlns = this.opts.defaultNs;
    } else if (this.opts.maxDepth && depth > this.opts.maxDepth) {
      throw new StreamError('policy-violation', 'elements nested too deeply');
    }
    const el = new Element(tag.name);
    el.attrs = attrs; // a fresh object per tag (openTagStartHandler): no copy needed
    if (depth > this.topLevel) this.stack[depth - 1].append(el);
    this.stack.push(el);
  }

  saxClose(): void {
    const el = this.stack.pop()!;
    this.scopes.pop();
    const depth = this.stack.length;
    if (depth === 0) {
      if (!this.opts.framed) this.handler.streamClosed?.();
      return;
    }
    if (depth === this.topLevel) {
      this.checkSize();
      this.atBoundary();
      // Namespaced prefixes (stream:features etc.) resolve against the stream root: keep the link for getNS().
      el.parent = this.opts.framed && !this.opts.rootAttrs ? null : this.stack[0];
      this.handler.element(el);
      el.parent = null;
    }
  }

  saxText(t: string): void {
    const depth = this.stack.length;
    if (depth > this.topLevel) this.stack[depth - 1].t(t);
    else if (t.trim()) throw new StreamError('not-well-formed', 'text outside of a stanza');
    // Whitespace between stanzas is reported when the next `<` is read: that `<` is where the next element starts.
    else if (depth === this.topLevel) this.boundary = this.parser.position - 1;
  }

  private checkSize(position = this.parser.position): void {
    if (position - this.boundary > this.opts.maxStanzaSize) {
      throw new StreamError('policy-violation', `stanza larger than ${this.opts.maxStanzaSize} bytes`);
    }
  }

  private atBoundary(): void {
    this.boundary = this.parser.position;
  }

  /** Every prefix used on the element or its attributes is declared on it or an ancestor (RFC 6120 §11.2). */
  private checkNamespaces(name: string, attrs: Record<string, string>): void {
    let declared: string[] | null = null;
    let prefixed = name.includes(':');
    for (const k in attrs) {
      if (k.startsWith('xmlns:')) {
        if (attrs[k] === '') throw new StreamError('not-well-formed', `the prefix ${k.slice(6)} is declared empty`);
        (declared ??= []).push(k.slice(6));
      } else if (k.includes(':')) prefixed = true;
    }
    this.scopes.push(declared);
    if (!prefixed) return;
    const check = (qname: string, what: string) => {
      const i = qname.indexOf(':');
      if (i < 0) return;
      const prefix = qname.slice(0, i);
      if (prefix === 'xml' || (prefix === 'xmlns' && what === 'attribute')) return;
      for (let d = this.scopes.length - 1; d >= 0; d--) if (this.scopes[d]?.includes(prefix)) return;
      throw new StreamError('not-well-formed', `unbound namespace prefix on ${what} ${qname}`);
    };
    check(name, 'element');
    for (const k in attrs) check(k, 'attribute');
  }
}
