// A stanza serialized once and sent to many recipients: only the `to` attribute differs between copies.
// This is the fan-out hot path (one groupchat message to thousands of occupants), and the path of an answer many
// clients ask for (an occupant's vCard), where the request's `id` differs too.
import { parse } from 'ltx';
import { cloneElement, Element, escapeAttr } from './xml.js';
import { NS } from './namespaces.js';
import { ownCopy } from './jid.js';

/**
 * `<name xmlns="ns" to="` (and an answer's `<name xmlns="ns" id="`): the same few heads for every stanza, shared
 * rather than kept per stanza or built per send.
 */
const heads = new Map<string, string>();
/** The same heads in UTF-8, for the byte path (a fan-out copies them rather than encoding per recipient). */
const headBytes = new Map<string, Buffer>();
const TO_ATTR = '" to="';
function headOf(name: string, xmlns: string, attr: 'to' | 'id' = 'to'): string {
  const key = `${name} ${xmlns} ${attr}`;
  let h = heads.get(key);
  if (h === undefined) {
    h = `<${name} xmlns="${xmlns}" ${attr}="`;
    if (heads.size < 64) heads.set(key, h);
  }
  return h;
}

/** An answer's head up to its id's value: `<name xmlns="ns" id="` (see withId). */
function idHeadOf(name: string, xmlns: string): string {
  return headOf(name, xmlns, 'id');
}

/**
 * UTF-8 bytes in a buffer of their own, for bytes kept long (a session's JID, the shared heads): Buffer.from() of a
 * short string is a slice of Node's shared 8 KB pool, and one long-lived slice keeps the whole slab alive.
 */
export function ownBytes(s: string): Buffer {
  const b = Buffer.allocUnsafeSlow(Buffer.byteLength(s));
  b.write(s, 0, 'utf8');
  return b;
}

/**
 * A stanza a session writes to its client without serializing it for that client: as text for transports that take
 * text, else as three runs of UTF-8 bytes the transport copies into its frame (Transport.sendSplice). A room's
 * fan-out (PreparedStanza: head, the recipient's address, a shared tail) and a MAM result (its own head, the
 * archived message's shared bytes, a constant end) are both; the session and the router know only this shape.
 */
export interface Prepared {
  readonly name: string;
  /** May wait for the write-coalescing window on a busy connection (a room's fan-out; never an answer). */
  readonly deferrable: boolean;
  /** Serialization for a client stream, addressed to `to` (the recipient session's full JID). */
  forClient(to: string): string;
  /** Serialization for a server-to-server stream (jabber:server). */
  forServer(to: string): string;
  /** A standalone element with `to` set, for paths that need a tree rather than bytes. */
  toElement(to: string): Element;
  /**
   * The client serialization's three runs of bytes; `toBytes`: `to` escaped, in UTF-8 (kept by the session). The
   * head and the tail may be text instead, for the transport to encode into its frame (bytes made per send, or not
   * kept).
   */
  spliceHead(toBytes: Buffer): Buffer | string;
  spliceMid(toBytes: Buffer): Buffer;
  spliceTail(): Buffer | string;
}

export class PreparedStanza implements Prepared {
  /** The serialization after the `to` value (`"` + other attributes + children + end tag): the same in both namespaces. */
  private tail = '';
  /** `<name xmlns="jabber:client" to="` for this stanza, resolved once rather than per recipient. */
  private clientHead = '';
  private tree: Element | null;
  readonly name: string;
  /**
   * May wait for the write-coalescing window on a busy connection (src/xmpp/write-coalescing.ts): a room message,
   * or an occupant's presence to others (the room says so when it prepares one). Anything else (an answer, one's own
   * presence) leaves at the end of its tick and takes what is held with it.
   */
  readonly deferrable: boolean;
  /** The tail in UTF-8, made on the first send through a byte path and shared by every recipient. */
  private tailUtf8: Buffer | null = null;

  /**
   * `element` must carry a `from`; its `to` and `xmlns` are ignored. It must not be mutated afterwards.
   * `deferrable` defaults to true for a message, false for anything else.
   */
  constructor(element: Element, deferrable = element.name === 'message') {
    this.tree = element;
    this.name = element.name;
    this.deferrable = deferrable;
  }

  /**
   * The stanza as a tree. A compacted stanza (kept for long, see compact()) parses its bytes again: only rare paths
   * (a decorating hook, a remote server without raw sends) ask for it.
   */
  get element(): Element {
    if (this.tree) return this.tree;
    const e = parse(this.forClient(''));
    delete e.attrs.to;
    delete e.attrs.xmlns;
    return e;
  }

  /**
   * This stanza as the answer to one request: `<iq xmlns="jabber:client" id="…" to="` + the requester + this
   * stanza's tail, the tail's text and bytes shared with this one (see retain()). The stanza must carry no `id`.
   */
  withId(id: string): PreparedAnswer {
    return new PreparedAnswer(this, id);
  }

  /**
   * Encodes the tail once into a buffer of its own and keeps it, for a stanza kept for long and sent often (an
   * occupant's vCard answer): a pooled slice would keep its whole 8 KB slab alive.
   */
  retain(): this {
    this.tailUtf8 ??= ownBytes(this.tail || this.tailText());
    return this;
  }

  /** Serialization for a client stream (jabber:client), with `to` spliced in. */
  forClient(to: string): string {
    const head = this.clientHead || (this.clientHead = headOf(this.name, NS.CLIENT));
    return head + escapeAttr(to) + (this.tail || this.tailText());
  }

  /** The answer's serialization (see withId): `<name xmlns="ns" id="…" to="…"` + the tail. */
  answerText(ns: string, id: string, to: string): string {
    return idHeadOf(this.name, ns) + escapeAttr(id) + TO_ATTR + escapeAttr(to) + (this.tail || this.tailText());
  }

  /**
   * The client serialization as bytes, without `to`'s value: a recipient's copy is `head` + its escaped JID in UTF-8
   * + `tail`. Both are encoded once per stanza, however many recipients copy them.
   */
  clientHeadBytes(): Buffer {
    let h = headBytes.get(this.name);
    if (h === undefined) {
      h = ownBytes(headOf(this.name, NS.CLIENT));
      if (headBytes.size < 64) headBytes.set(this.name, h);
    }
    return h;
  }
  spliceHead(): Buffer {
    return this.clientHeadBytes();
  }
  /** The recipient's address, between the shared head and tail. */
  spliceMid(toBytes: Buffer): Buffer {
    return toBytes;
  }
  /**
   * The tail's bytes, or for a compacted stanza its text: it lives as long as its occupant and keeps no bytes (a
   * small Buffer is a slice of Node's shared 8 KB pool and would keep the whole slab alive), so the transport encodes
   * the text straight into its frame rather than this making a buffer per send (a join roster sends ~100 of them).
   */
  spliceTail(): Buffer | string {
    return this.tree || this.tailUtf8 ? this.tailBytes() : this.tail;
  }

  tailBytes(): Buffer {
    if (this.tailUtf8) return this.tailUtf8;
    const bytes = Buffer.from(this.tail || this.tailText());
    // A compacted stanza's bytes are made per use (see spliceTail).
    if (this.tree) this.tailUtf8 = bytes;
    return bytes;
  }

  /** Serialization for a server-to-server stream (jabber:server). */
  forServer(to: string): string {
    return headOf(this.name, NS.SERVER) + escapeAttr(to) + this.tailText();
  }

  /**
   * Keeps only the serialization, dropping the tree (for stanzas cached per occupant: a presence's tree is ~2 KB of
   * heap, its text a few hundred bytes, sent as text: see spliceTail).
   */
  compact(): this {
    this.tailText();
    this.tree = null;
    this.tailUtf8 = null;
    return this;
  }

  /** A standalone element with `to` set, for paths that need a tree rather than bytes. */
  toElement(to: string): Element {
    const copy = this.tree ? cloneElement(this.tree) : this.element;
    copy.attrs.to = to;
    return copy;
  }

  private tailText(): string {
    if (this.tail) return this.tail;
    const element = this.tree!;
    const { to: _to, xmlns: _ns, ...rest } = element.attrs;
    const bare = new Element(element.name, rest);
    bare.children = element.children;
    const body = bare.toString(); // "<name a=..>...</name>" or "<name a=../>"
    this.tail = '"' + body.slice(element.name.length + 1);
    return this.tail;
  }
}

/**
 * A prepared stanza as the answer to one request (an occupant's vCard to one viewer): the shared stanza and the
 * request's id, nothing else. Stream management keeps each answer until the client acknowledges it, so in a join
 * storm tens of thousands of them outlive the young generation: two fields rather than a copy of the stanza's.
 */
export class PreparedAnswer implements Prepared {
  private readonly id: string;

  constructor(
    private readonly stanza: PreparedStanza,
    id: string,
  ) {
    // The request's id is a view of the whole frame it came in (a UUID from ConverseJS is past V8's 13-character
    // slice threshold): a copy of its own lets the frame go while the answer waits for its acknowledgement.
    this.id = ownCopy(id);
  }

  get name(): string {
    return this.stanza.name;
  }
  /** An answer never waits for a room's coalescing window. */
  get deferrable(): boolean {
    return false;
  }

  forClient(to: string): string {
    return this.stanza.answerText(NS.CLIENT, this.id, to);
  }

  forServer(to: string): string {
    return this.stanza.answerText(NS.SERVER, this.id, to);
  }

  toElement(to: string): Element {
    const e = this.stanza.toElement(to);
    delete e.attrs.xmlns;
    e.attrs.id = this.id;
    return e;
  }

  /**
   * `<iq xmlns="jabber:client" id="…" to="` as text, which the transport encodes into its frame with the rest: a
   * Buffer of its own per answer (a slice of Node's pool and two writes) took twice as long, ~40,000 times a storm.
   */
  spliceHead(): string {
    return idHeadOf(this.stanza.name, NS.CLIENT) + escapeAttr(this.id) + TO_ATTR;
  }

  spliceMid(toBytes: Buffer): Buffer {
    return toBytes;
  }

  spliceTail(): Buffer | string {
    return this.stanza.spliceTail();
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
  private constructor(
    name: string,
    attrs: Record<string, string>,
    readonly xml?: string,
  ) {
    super(name, attrs);
  }

  /** Parses `xml` once (its root becomes this element) and keeps the text for serialization. */
  static of(xml: string): PreSerializedElement {
    const tree = parse(xml);
    const e = new PreSerializedElement(tree.name, tree.attrs, xml);
    e.children = tree.children;
    return e;
  }

  /** Serializes an already built tree once and keeps both (no parse): the tree must not be mutated afterwards. */
  static wrap(tree: Element): PreSerializedElement {
    const e = new PreSerializedElement(tree.name, tree.attrs, tree.toString());
    e.children = tree.children;
    return e;
  }

  /** A tree with its serialization made by the caller (who guarantees they match): neither parsed nor walked. */
  static withText(tree: Element, xml: string): PreSerializedElement {
    const e = new PreSerializedElement(tree.name, tree.attrs, xml);
    e.children = tree.children;
    return e;
  }

  /**
   * An element known by its serialization alone (name and attributes as given, no children kept): for an answer made
   * from cached text, which nothing reads on its way out. Code that needs its content parses `xml`.
   */
  static textOnly(name: string, attrs: Record<string, string>, xml: string): PreSerializedElement {
    return new PreSerializedElement(name, attrs, xml);
  }

  override write(writer: (s: string) => void): void {
    if (this.xml === undefined) super.write(writer);
    else writer(this.xml);
  }

  override toString(): string {
    return this.xml ?? super.toString();
  }
}
