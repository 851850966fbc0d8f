// One BOSH session (XEP-0124) seen as a stream transport: requests arrive with consecutive rids, their payloads go to
// the c2s session in rid order, and what the c2s session writes waits in a bounded buffer for a held request.
import type { ServerResponse } from 'node:http';
import type { Element } from '../xmpp/xml.js';
import type { StreamHeader, StreamTransport, TransportHandler } from '../xmpp/transport.js';
import type { Logger } from '../log.js';
import { HeldWrites, type WriteCoalescer } from '../xmpp/write-coalescing.js';
import {
  NS_XBOSH,
  payloadText,
  responseBody,
  responseBytes,
  streamErrorBody,
  terminateBody,
  xboshAttr,
  type BindingCondition,
} from './body.js';

export interface BoshSessionParams {
  sid: string;
  remoteAddress: string;
  secure: boolean;
  /** Negotiated values, announced in the session creation response. */
  wait: number;
  hold: number;
  requests: number;
  inactivity: number;
  polling: number;
  ver: string;
  /** Content-Type of every response (the client's 'content' attribute, XEP-0124 §7.1). */
  contentType: string;
  /** The client sent no 'ver': it expects HTTP error codes instead of terminal binding conditions (§17.1). */
  legacy: boolean;
  /** The client asked for acknowledgements (ack='1'). */
  acks: boolean;
  /** Past this many buffered bytes the session is ended (the c2s session normally drops the client first). */
  maxBufferedBytes: number;
  /** The endpoint's own headers for every response (CORS), as name, value, name, value. */
  headers?: readonly string[];
  /**
   * The write coalescer whose window paces a room's fan-out (c2s.coalesceMs, or the endpoint's own for
   * bosh.pushIntervalMs): to a busy session it waits for the window, as over WebSocket, so a BOSH viewer of a busy room
   * costs a response per window rather than one per message. Without it, what is written leaves at the end of the tick.
   */
  coalescer?: WriteCoalescer;
  log: Logger;
  /** Called once when the session is over and its sid must be forgotten. */
  onGone(s: BoshSession): void;
}

interface Held {
  rid: number;
  res: ServerResponse;
  timer: NodeJS.Timeout | null;
}

interface Early {
  attrs: Record<string, string>;
  payloads: Element[];
  res: ServerResponse;
}

type State = 'open' | 'closing' | 'closed';

/**
 * A response with data, and the request the client sends back for it, in socket writes for the coalescer's write
 * budget: 80–115 µs of server CPU against ~20 µs for a WebSocket write, Node's HTTP request and response objects
 * being most of it (bench:live --transport bosh, 2026-12-06). A crowd of BOSH viewers widens the window as a crowd
 * five times larger over WebSocket would.
 */
const RESPONSE_COST = 5;

/**
 * When what the c2s session wrote may leave in a response: at the end of the tick, or for a room's fan-out to a busy
 * session at the end of the coalescing window (write-coalescing.ts). A release with no request held sends nothing:
 * the data waits for the client's next request.
 */
class ResponsePacing extends HeldWrites {
  constructor(
    coalescer: WriteCoalescer | undefined,
    private readonly session: { bufferedBytes(): number; released(): void },
  ) {
    super(coalescer, RESPONSE_COST);
  }

  hold(deferrable: boolean): void {
    this.schedule(deferrable);
  }

  protected heldBytes(): number {
    return this.session.bufferedBytes();
  }

  protected writeOut(): void {
    this.session.released();
  }
}

/** A response as it was made, to make it again for a repeated request: its wrapper's attributes and its payloads. */
interface SentResponse {
  attrs: Record<string, string | undefined>;
  payloads: ReadonlyArray<string | Buffer>;
}
const NOTHING: ReadonlyArray<string | Buffer> = [];

const LEGACY_STATUS: Partial<Record<BindingCondition, number>> = {
  'bad-request': 400,
  'policy-violation': 403,
  'item-not-found': 404,
};

export class BoshSession implements StreamTransport {
  readonly kind = 'bosh' as const;
  handler!: TransportHandler;
  readonly sid: string;
  readonly remoteAddress: string;
  readonly secure: boolean;
  private state: State = 'open';
  /** Highest rid whose payloads were handed on (all lower ones were too). */
  private lastRid = 0;
  /** Processed requests waiting for data, in rid order. */
  private held: Held[] = [];
  /** Requests that arrived ahead of a missing rid, kept until the gap is filled (bounded by the window). */
  private early = new Map<number, Early>();
  /** The last responses by rid, for clients that repeat a request whose response they lost (§14.3). */
  private sent = new Map<number, SentResponse>();
  /** What the c2s session wrote for the next response: serialized stanzas, and prepared stanzas' byte runs. */
  private out: Array<string | Buffer> = [];
  private outBytes = 0;
  private readonly pacing: ResponsePacing;
  private inactivityTimer: NodeJS.Timeout | null = null;
  /** Attributes of the session creation response, until it is sent. */
  private creation: Record<string, string | undefined> | null = null;
  /** A terminate response with no request to carry it: given to the next request. */
  private finalBody: string | null = null;
  private lastPollAt = 0;
  private lastResponseEmpty = false;

  constructor(private p: BoshSessionParams) {
    this.sid = p.sid;
    this.remoteAddress = p.remoteAddress;
    this.secure = p.secure;
    this.pacing = new ResponsePacing(p.coalescer, this);
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  // ---- requests ---------------------------------------------------------------

  /** The session creation request (§7.1): answered with the negotiated values and the first stream features. */
  start(rid: number, attrs: Record<string, string>, res: ServerResponse): void {
    this.lastRid = rid;
    const p = this.p;
    this.creation = {
      sid: p.sid,
      wait: String(p.wait),
      hold: String(p.hold),
      requests: String(p.requests),
      inactivity: String(p.inactivity),
      polling: String(p.polling),
      ver: p.ver,
      ack: p.acks ? String(rid) : undefined,
      secure: p.secure ? 'true' : undefined,
      'xmlns:xmpp': NS_XBOSH,
      'xmpp:version': '1.0',
    };
    this.keep(rid, res);
    this.handler.streamOpened({
      to: attrs.to ?? '',
      version: xboshAttr(attrs, 'version') ?? '1.0',
      'xml:lang': attrs['xml:lang'] ?? 'en',
    });
    this.settle();
  }

  /** Any later request of the session. */
  request(rid: number, attrs: Record<string, string>, payloads: Element[], res: ServerResponse): void {
    if (this.finalBody !== null) {
      this.write(res, this.finalBody);
      this.gone();
      return;
    }
    if (this.state !== 'open') {
      this.write(res, terminateBody('item-not-found'), 'item-not-found');
      return;
    }
    this.stopInactivity();
    this.handler.touch?.();
    if (rid <= this.lastRid) {
      this.repeated(rid, res);
      return;
    }
    // §14.2: rids beyond the window of simultaneous requests end the session (same error as an unknown rid).
    if (rid > this.lastRid + this.p.requests) {
      this.fail('item-not-found', res);
      return;
    }
    if (rid > this.lastRid + 1) {
      const e = this.early.get(rid);
      if (e) this.replaceResponse(e, res);
      else this.early.set(rid, { attrs, payloads, res });
      // A gap that never fills must not keep the session alive.
      if (this.held.length === 0) this.startInactivity();
      return;
    }
    this.process(rid, attrs, payloads, res);
    for (
      let next = this.early.get(this.lastRid + 1);
      next && this.state === 'open';
      next = this.early.get(this.lastRid + 1)
    ) {
      this.early.delete(this.lastRid + 1);
      this.process(this.lastRid + 1, next.attrs, next.payloads, next.res);
    }
    if (this.state === 'open') this.settle();
  }

  /** A request with the same rid as an earlier one: the client lost the response, send it again. */
  private repeated(rid: number, res: ServerResponse): void {
    const cached = this.sent.get(rid);
    if (cached !== undefined) {
      this.write(res, responseBytes(cached.attrs, cached.payloads));
      if (this.held.length === 0) this.startInactivity();
      return;
    }
    const h = this.held.find((x) => x.rid === rid);
    if (h) {
      this.replaceResponse(h, res);
      return;
    }
    this.fail('item-not-found', res);
  }

  private replaceResponse(slot: { res: ServerResponse }, res: ServerResponse): void {
    // The earlier connection is presumably dead; if not, it gets an empty body that the client will ignore.
    this.write(slot.res, responseBody({}, ''));
    slot.res = res;
  }

  private process(rid: number, attrs: Record<string, string>, payloads: Element[], res: ServerResponse): void {
    this.lastRid = rid;
    // Responses the client will not ask for again: with acks, those up to its 'ack'; in any case those up to
    // rid - requests, as a client never has more than 'requests' requests open and repeats only an open one. Kept
    // longer, a join storm's responses (each viewer's batch of vCards) doubled the server's heap. This is also what
    // bounds `sent` to 'requests' responses: only held requests are answered, and they are never more than 'hold'
    // rids behind the last.
    const ack = this.p.acks && attrs.ack ? Number(attrs.ack) : NaN;
    const received = Number.isFinite(ack) ? Math.max(ack, rid - this.p.requests) : rid - this.p.requests;
    for (const r of this.sent.keys()) if (r <= received) this.sent.delete(r);
    const restart = xboshAttr(attrs, 'restart') === 'true';
    const terminate = attrs.type === 'terminate';
    if (this.p.hold === 0 && payloads.length === 0 && !restart && !terminate && attrs.pause === undefined) {
      // §12: a polling client must not send empty requests faster than 'polling' while there is nothing to get.
      const now = Date.now();
      if (this.lastResponseEmpty && now - this.lastPollAt < this.p.polling * 1000) {
        this.fail('policy-violation', res);
        return;
      }
      this.lastPollAt = now;
    }
    this.keep(rid, res);
    if (restart) {
      // XEP-0206 stream restart: the request carries no payloads; the reply carries the new stream features.
      this.handler.streamOpened({ to: attrs.to ?? '', version: '1.0', 'xml:lang': attrs['xml:lang'] ?? 'en' });
    } else {
      for (const el of payloads) {
        if (this.state !== 'open') return;
        this.handler.element(el);
      }
    }
    if (terminate && this.state === 'open') {
      this.handler.streamClosed();
      // The c2s session answers streamClosed by closing its transport; make sure the client hears the end.
      if (this.state === 'open') this.finish(terminateBody(), false);
    }
  }

  private keep(rid: number, res: ServerResponse): void {
    const h: Held = { rid, res, timer: null };
    h.timer = setTimeout(() => this.expire(h), this.p.wait * 1000);
    h.timer.unref();
    this.held.push(h);
  }

  /**
   * After a batch of requests: keep at most 'hold' requests waiting, and answer at the end of the tick if data is
   * waiting (unless it is already held for the end of a tick or of the coalescing window).
   */
  private settle(): void {
    while (this.held.length > this.p.hold && this.state === 'open') this.respondOldest();
    if (this.out.length > 0 && !this.pacing.holding) this.pacing.hold(false);
  }

  private expire(h: Held): void {
    h.timer = null;
    if (this.state !== 'open') return;
    // Responses go out in rid order: earlier held requests are answered first.
    while (this.held.length > 0 && this.held[0] !== h) this.respondOldest();
    if (this.held[0] === h) this.respondOldest();
  }

  private respondOldest(): void {
    const h = this.held.shift()!;
    if (h.timer) clearTimeout(h.timer);
    const payloads = this.out;
    this.out = [];
    this.outBytes = 0;
    let attrs: Record<string, string | undefined> = {};
    if (this.creation) {
      attrs = this.creation;
      this.creation = null;
    } else if (this.p.acks && this.lastRid > h.rid) {
      // §9.1: tell the client which later requests already arrived.
      attrs = { ack: String(this.lastRid) };
    }
    // As bytes: encoded once for Content-Length and the socket.
    const empty = payloads.every((x) => x.length === 0);
    const kept = empty ? NOTHING : payloads;
    const xml = responseBytes(attrs, kept);
    this.lastResponseEmpty = empty;
    // Kept for a repeat as what it was made of, not as its bytes: the runs of a room's stanzas and MAM results are
    // shared with every other viewer, where the bytes were a copy of their own (~60 KB a viewer in a join storm: its
    // roster and history pages, ~20 MB of a 400-viewer storm's peak RSS). A repeat makes the same bytes again.
    this.sent.set(h.rid, { attrs, payloads: kept });
    this.write(h.res, xml);
    if (this.held.length === 0) this.startInactivity();
  }

  // ---- StreamTransport ----------------------------------------------------------

  sendOpen(h: StreamHeader): void {
    // Only the first stream header matters: it names the server and the stream id (XEP-0206 'from' and 'authid').
    if (this.creation) {
      this.creation.from = h.from;
      this.creation.authid = h.id;
    }
  }

  /** `deferrable`: a room's fan-out, which may wait for the coalescing window on a busy session. */
  sendRaw(xml: string, deferrable = false): void {
    if (this.state !== 'open') return;
    this.out.push(xml);
    this.queued(xml.length, deferrable);
  }

  /**
   * A prepared stanza as its runs (head, the recipient's address, tail), kept as they come and copied once into the
   * response: without it the c2s session makes each one a string for sendRaw, encoded again in the response (a
   * room's fan-out, a join's roster and vCard answers are most of what a BOSH viewer receives).
   */
  sendSplice(head: Buffer | string, mid: Buffer, tail: Buffer | string, deferrable = false): void {
    if (this.state !== 'open') return;
    this.out.push(head, mid, tail);
    this.queued(head.length + mid.length + tail.length, deferrable);
  }

  private queued(size: number, deferrable: boolean): void {
    this.outBytes += size;
    if (this.outBytes > this.p.maxBufferedBytes) {
      // Backstop: the c2s session drops clients that do not read well before this.
      queueMicrotask(() => this.fail('policy-violation'));
      return;
    }
    this.pacing.hold(deferrable);
  }

  /**
   * What was written may leave now (the end of the tick or of the window): everything written until then (a fan-out,
   * a join's presences, an answer and the room messages held before it) goes in one response. With no request held,
   * it waits for the next one.
   */
  released(): void {
    if (this.state === 'open' && this.out.length > 0 && this.held.length > 0) this.respondOldest();
  }

  close(streamError?: Element): void {
    if (this.state !== 'open') return;
    const pending = payloadText(this.out);
    this.out = [];
    this.outBytes = 0;
    this.finish(streamErrorBody(streamError, pending), false);
  }

  bufferedBytes(): number {
    return this.outBytes;
  }

  restartStream(): void {
    // Nothing to reset: the client's next request carries xmpp:restart='true' (XEP-0206).
  }

  // ---- ending ---------------------------------------------------------------------

  /** Ends the session for a binding error (bad rid, policy): the client is told, the c2s session loses its transport. */
  fail(condition: BindingCondition, res?: ServerResponse): void {
    if (this.state === 'closed') {
      if (res) this.write(res, terminateBody(condition), condition);
      return;
    }
    const wasOpen = this.state === 'open';
    const xml = terminateBody(condition);
    if (res) this.write(res, xml, condition);
    this.finish(xml, true, condition);
    if (wasOpen) this.handler.transportClosed();
    this.p.log.debug(`bosh ${this.sid}: terminated (${condition})`);
  }

  /** The client stopped making requests for longer than 'inactivity': it is gone (§10). */
  private inactive(): void {
    this.inactivityTimer = null;
    if (this.state !== 'open') return;
    this.p.log.debug(`bosh ${this.sid}: inactive for ${this.p.inactivity}s, cleaning up`);
    this.out = [];
    this.outBytes = 0;
    // Requests stuck behind a missing rid are answered; nobody else is listening.
    this.finish(terminateBody(), true);
    this.handler.transportClosed();
  }

  /** Server shutdown of the endpoint itself. */
  shutdown(): void {
    if (this.state === 'open') this.fail('system-shutdown');
    else this.gone();
  }

  /**
   * Answers every waiting request with the terminate response (the first one carries it, with any pending payloads;
   * later ones get a bare terminate). With no request waiting, the next one gets it, or the session simply expires.
   */
  private finish(xml: string, now: boolean, condition?: BindingCondition): void {
    this.state = 'closing';
    const waiting: ServerResponse[] = this.held.map((h) => {
      if (h.timer) clearTimeout(h.timer);
      return h.res;
    });
    this.held = [];
    for (const e of this.early.values()) waiting.push(e.res);
    this.early.clear();
    if (waiting.length === 0 && !now) {
      this.finalBody = xml;
      this.startInactivity();
      return;
    }
    waiting.forEach((res, i) => this.write(res, i === 0 ? xml : terminateBody(condition), condition));
    this.gone();
  }

  private gone(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopInactivity();
    for (const h of this.held) if (h.timer) clearTimeout(h.timer);
    this.held = [];
    this.early.clear();
    this.sent.clear();
    this.finalBody = null;
    this.p.onGone(this);
  }

  private startInactivity(): void {
    this.stopInactivity();
    this.inactivityTimer = setTimeout(() => {
      if (this.state === 'closing') this.gone();
      else this.inactive();
    }, this.p.inactivity * 1000);
    this.inactivityTimer.unref();
  }

  private stopInactivity(): void {
    if (this.inactivityTimer) clearTimeout(this.inactivityTimer);
    this.inactivityTimer = null;
  }

  // ---- HTTP -----------------------------------------------------------------------

  private write(res: ServerResponse, xml: string | Buffer, condition?: BindingCondition): void {
    if (res.writableEnded || res.destroyed) return;
    const status = this.p.legacy && condition ? (LEGACY_STATUS[condition] ?? 200) : 200;
    writeBody(res, status, xml, this.p.contentType, this.p.headers);
  }
}

/**
 * Headers every BOSH response carries: the endpoint's own (CORS), no caching, and the Content-Type the session asked
 * for. All given to writeHead at once, as a flat list: Node then writes them without building a header table.
 */
export function writeBody(
  res: ServerResponse,
  status: number,
  xml: string | Buffer,
  contentType: string,
  headers: readonly string[] = [],
  extra: Record<string, string> = {},
): void {
  const length = typeof xml === 'string' ? Buffer.byteLength(xml) : xml.length;
  const all = [...headers, 'Content-Type', contentType, 'Content-Length', String(length), 'Cache-Control', 'no-store'];
  for (const k in extra) all.push(k, extra[k]!);
  res.writeHead(status, all);
  res.end(xml);
}
