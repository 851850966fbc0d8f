// A XEP-0313 result message as a prepared stanza (src/xmpp/prepared.ts): a session writes it as text, or as three runs
// of bytes where its transport takes them (WebSocket): a small head made per result, the archived message's
// <forwarded/> encoded once per message and view and shared by every reader, and a constant end. Every viewer joining
// a live asks for the same last page, so per reader only the head is new.
import { Element, escapeXML } from '../xmpp/xml.js';
import { ownBytes, type Prepared } from '../xmpp/prepared.js';
import { NS } from '../xmpp/namespaces.js';

const CLIENT_START = `<message xmlns="${NS.CLIENT}"`;
const SERVER_START = `<message xmlns="${NS.SERVER}"`;
const END = '</result></message>';
const END_BYTES = ownBytes(END);

/** An archived message's `<forwarded/>` as a reader sees it: its tree, its text and, once a byte path asks, its bytes. */
export class ForwardedPart {
  private utf8: Buffer | null = null;

  /**
   * `text`: the tree's serialization when already made. `keep`: the part is cached and shared (a room's archive), so
   * its bytes are made once and kept with it.
   */
  constructor(
    readonly tree: Element,
    private text: string | undefined,
    private readonly keep: boolean,
  ) {}

  get xml(): string {
    return (this.text ??= this.tree.toString());
  }

  bytes(): Buffer {
    if (this.utf8) return this.utf8;
    if (!this.keep) return Buffer.from(this.xml);
    // A buffer of its own: a pooled slice kept in the cache would keep its whole 8 KB slab alive.
    return (this.utf8 = ownBytes(this.xml));
  }
}

/** The text around a result's two ids, the same for every result of one query: made once per query. */
export class ResultHeads {
  /** `<message xmlns="jabber:client" to="…" from="…" id="` */
  readonly head: string;
  /** `"><result xmlns="…" queryid="…" id="` */
  readonly mid: string;
  private headUtf8: Buffer | null = null;
  private midUtf8: Buffer | null = null;

  constructor(
    /** The requester's full JID. */
    readonly to: string,
    /** The archive's JID (the room's, or the account's). */
    readonly from: string,
    readonly queryid: string | undefined,
    readonly resultNs: string,
  ) {
    this.head = `${CLIENT_START} to="${escapeXML(to)}" from="${escapeXML(from)}" id="`;
    const q = queryid === undefined ? '' : ` queryid="${escapeXML(queryid)}"`;
    this.mid = `"><result xmlns="${escapeXML(resultNs)}"${q} id="`;
  }

  headBytes(): Buffer {
    return (this.headUtf8 ??= Buffer.from(this.head));
  }
  midBytes(): Buffer {
    return (this.midUtf8 ??= Buffer.from(this.mid));
  }
}

/** One result: <message to from id><result queryid id><forwarded/></result></message>, addressed to the requester. */
export class MamResult implements Prepared {
  readonly name = 'message';
  /** An answer to the reader's own query: it does not wait for a busy room's coalescing window. */
  readonly deferrable = false;

  constructor(
    private readonly q: ResultHeads,
    /** The result message's own id. */
    readonly id: string,
    /** The archive id of the message (the result's id). */
    readonly itemId: string,
    private readonly fwd: ForwardedPart,
  ) {}

  /** The requester: a result is written for it only (the `to` the session passes is this one). */
  get to(): string {
    return this.q.to;
  }

  forClient(): string {
    const q = this.q;
    return q.head + this.id + q.mid + escapeXML(this.itemId) + '">' + this.fwd.xml + END;
  }

  forServer(): string {
    return SERVER_START + this.forClient().slice(CLIENT_START.length);
  }

  toElement(): Element {
    const q = this.q;
    const attrs: Record<string, string> = { xmlns: q.resultNs };
    if (q.queryid !== undefined) attrs.queryid = q.queryid;
    attrs.id = this.itemId;
    const result = new Element('result', attrs).cnode(this.fwd.tree).up();
    return new Element('message', { to: q.to, from: q.from, id: this.id }).cnode(result).up();
  }

  /** This result's head: the query's shared head bytes with its two ids written in (a few hundred bytes, not kept). */
  spliceHead(): Buffer {
    const q = this.q;
    const head = q.headBytes();
    const mid = q.midBytes();
    const item = escapeXML(this.itemId);
    const out = Buffer.allocUnsafe(head.length + this.id.length + mid.length + Buffer.byteLength(item) + 2);
    head.copy(out, 0);
    let at = head.length;
    at += out.write(this.id, at, 'latin1');
    mid.copy(out, at);
    at += mid.length;
    at += out.write(item, at);
    out.write('">', at, 'latin1');
    return out;
  }

  spliceMid(): Buffer {
    return this.fwd.bytes();
  }

  spliceTail(): Buffer {
    return END_BYTES;
  }
}
