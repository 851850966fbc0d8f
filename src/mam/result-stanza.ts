// A XEP-0313 result message as a prepared stanza (src/xmpp/prepared.ts): a session writes it as text, or as three runs
// of bytes where its transport takes them (WebSocket): a head made once per query, the archived message's id and
// <forwarded/> encoded once per message and view and shared by every reader, and a constant end. Every viewer joining
// a live asks for the same last page, so a query's results cost its head and nothing per result.
import { Element, escapeXML } from '../xmpp/xml.js';
import { ownBytes, type Prepared } from '../xmpp/prepared.js';
import { NS } from '../xmpp/namespaces.js';
import { ownCopy } from '../xmpp/jid.js';

const CLIENT_START = `<message xmlns="${NS.CLIENT}"`;
const SERVER_START = `<message xmlns="${NS.SERVER}"`;
const END = '</result></message>';
const END_BYTES = ownBytes(END);

/**
 * What follows a result's `id="`, the same for every reader of one archived message and view: its archive id, the end
 * of the <result> start tag and the message's `<forwarded/>`. Kept as its tree, its text and, once a byte path asks,
 * its bytes.
 */
export class ForwardedPart {
  private utf8: Buffer | null = null;
  private text: string | undefined;

  /**
   * `forwarded`: the tree's serialization when already made. `keep`: the part is cached and shared (a room's archive),
   * so its bytes are made once and kept with it.
   */
  constructor(
    readonly tree: Element,
    /** The archived message's id (the result's `id`). */
    readonly itemId: string,
    private forwarded: string | undefined,
    private readonly keep: boolean,
  ) {}

  get xml(): string {
    return (this.text ??= escapeXML(this.itemId) + '">' + (this.forwarded ??= this.tree.toString()));
  }

  bytes(): Buffer {
    if (this.utf8) return this.utf8;
    if (!this.keep) return Buffer.from(this.xml);
    // A buffer of its own: a pooled slice kept in the cache would keep its whole 8 KB slab alive.
    return (this.utf8 = ownBytes(this.xml));
  }
}

/**
 * A result's start, the same for every result of one query (made once per query):
 * `<message xmlns="jabber:client" to="…" from="…"><result xmlns="…" queryid="…" id="`. Result messages carry no id of
 * their own, as Prosody's: nothing in XEP-0313 asks for one, and so no byte of a result is made per result.
 */
export class ResultHeads {
  readonly head: string;
  private headUtf8: Buffer | null = null;

  readonly queryid: string | undefined;

  constructor(
    /** The requester's full JID. */
    readonly to: string,
    /** The archive's JID (the room's, or the account's). */
    readonly from: string,
    queryid: string | undefined,
    readonly resultNs: string,
  ) {
    // Its own copy: a UUID read from the query is a view of the whole request, kept while results await their ack.
    this.queryid = queryid === undefined ? undefined : ownCopy(queryid);
    // From the copy too: the head, a concatenation until first written, would otherwise point at the request.
    const q = this.queryid === undefined ? '' : ` queryid="${escapeXML(this.queryid)}"`;
    const message = `${CLIENT_START} to="${escapeXML(to)}" from="${escapeXML(from)}">`;
    this.head = `${message}<result xmlns="${escapeXML(resultNs)}"${q} id="`;
  }

  headBytes(): Buffer {
    // Its own buffer: results wait in stream management's queue until acknowledged, and a pooled slice would keep
    // a whole 8 KB slab alive per query.
    return (this.headUtf8 ??= ownBytes(this.head));
  }
}

/** One result: <message to from><result queryid id><forwarded/></result></message>, addressed to the requester. */
export class MamResult implements Prepared {
  // Getters rather than fields: a result waits in stream management's queue until acknowledged (~11,000 of them at
  // once in a 400-viewer join storm), so it holds its two references and nothing else.
  get name(): string {
    return 'message';
  }
  /** An answer to the reader's own query: it does not wait for a busy room's coalescing window. */
  get deferrable(): boolean {
    return false;
  }

  constructor(
    private readonly q: ResultHeads,
    private readonly part: ForwardedPart,
  ) {}

  /** The requester: a result is written for it only (the `to` the session passes is this one). */
  get to(): string {
    return this.q.to;
  }

  /** The archive id of the message (the result's id). */
  get itemId(): string {
    return this.part.itemId;
  }

  forClient(): string {
    return this.q.head + this.part.xml + END;
  }

  forServer(): string {
    return SERVER_START + this.forClient().slice(CLIENT_START.length);
  }

  toElement(): Element {
    const q = this.q;
    const attrs: Record<string, string> = { xmlns: q.resultNs };
    if (q.queryid !== undefined) attrs.queryid = q.queryid;
    attrs.id = this.part.itemId;
    const result = new Element('result', attrs).cnode(this.part.tree).up();
    return new Element('message', { to: q.to, from: q.from }).cnode(result).up();
  }

  /** The query's head, shared by all its results. */
  spliceHead(): Buffer {
    return this.q.headBytes();
  }

  /** The archived message's id and <forwarded/>, shared by every reader of it in this view. */
  spliceMid(): Buffer {
    return this.part.bytes();
  }

  spliceTail(): Buffer {
    return END_BYTES;
  }
}
