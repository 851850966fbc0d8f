// XEP-0198 stream management: acks, and resumption of a session whose connection dropped (viewers on phones).
// The session keeps unacknowledged stanzas (serialized, or the room's shared prepared copy); a resumed session gets
// them re-sent.
import { randomString } from './random.js';
import { el, type Element } from './xml.js';
import { NS } from './namespaces.js';
import type { Prepared } from './prepared.js';

/**
 * An unacknowledged stanza kept for a resend: serialized, or a room's prepared stanza (shared by every recipient and
 * addressed to this session's JID when sent again).
 */
export type PendingStanza = string | Prepared;

const H_MOD = 2 ** 32;
/**
 * When to ask the client for an ack: once the stanzas sent since the last request weigh this much, and only when no
 * request is waiting for its answer. A prepared stanza weighs 1: kept unacknowledged it costs a pointer (a room's
 * fan-out, shared by every recipient) or a few dozen bytes (an answer made from a shared one: an occupant's vCard, a
 * MAM result). Serialized text made for this session alone weighs SM_TEXT_WEIGHT, as it holds its own hundreds of
 * bytes until acknowledged. Each ack is a frame the server reads: asked every 20 stanzas, ConverseJS viewers of a
 * room at 20 msg/s cost ~28% more server CPU per delivery (bench:live steady-chat), and a viewer joining a room
 * (its MAM page and the occupants' vCards, ~150 prepared answers) was asked 3 times when answers weighed 5, now 2.
 */
const SM_REQUEST_WEIGHT = 100;
const SM_TEXT_WEIGHT = 5;

export class StreamManagement {
  // From the pooled CSPRNG bytes: a randomBytes() call per session was 43 µs of a ConverseJS viewer's join.
  readonly id = randomString(16, 'base64url');
  /** Inbound stanzas handled (the `h` we report). */
  inbound = 0;
  /** Outbound stanzas the client acknowledged. */
  private acked = 0;
  /**
   * Stanzas sent and not yet acknowledged, oldest first, from `head` on: an ack moves `head` rather than splicing
   * (no array made per ack), and the array is reused once everything in it is acknowledged.
   */
  private queue: Array<PendingStanza | undefined> = [];
  private head = 0;
  /** The weight of the stanzas sent since the last ack request (SM_REQUEST_WEIGHT). */
  private sinceRequest = 0;
  /** An ack request is out and its answer has not come. */
  private awaitingAck = false;

  constructor(
    readonly resumable: boolean,
    readonly maxUnacked: number,
  ) {}

  get unacked(): number {
    return this.queue.length - this.head;
  }

  enabledElement(resumeSeconds: number): Element {
    return el('enabled', {
      xmlns: NS.SM,
      id: this.resumable ? this.id : undefined,
      resume: this.resumable ? 'true' : undefined,
      max: this.resumable ? resumeSeconds : undefined,
    });
  }

  countInbound(): void {
    this.inbound = (this.inbound + 1) % H_MOD;
  }

  /** Records an outbound stanza; returns true when an ack request should follow. */
  sent(stanza: PendingStanza): boolean {
    this.queue.push(stanza);
    this.sinceRequest += typeof stanza === 'string' ? SM_TEXT_WEIGHT : 1;
    if (this.sinceRequest < SM_REQUEST_WEIGHT || this.awaitingAck) return false;
    this.sinceRequest = 0;
    this.awaitingAck = true;
    return true;
  }

  get overflowing(): boolean {
    return this.unacked > this.maxUnacked;
  }

  /** Outbound stanzas counted so far (acknowledged or not), as `h` counts them. */
  get sentTotal(): number {
    return (this.acked + this.unacked) % H_MOD;
  }

  /**
   * Applies a client's `h`; returns false when it acknowledges more than was sent (XEP-0198 §4: a stream error).
   * An `h` behind the last one is ignored rather than fatal: @xmpp/client 0.14 restarts its count when its enable
   * answer is processed, after it may already have counted stanzas that followed <enabled/>, so its later acks can
   * run behind ours. Nothing more is acknowledged by such an `h`; the unacknowledged queue stays bounded as before.
   */
  ack(h: number): boolean {
    this.awaitingAck = false;
    const n = (h - this.acked + H_MOD) % H_MOD;
    if (n > this.unacked) {
      const behind = (this.acked - h + H_MOD) % H_MOD;
      return behind < H_MOD / 2;
    }
    this.drop(n);
    this.acked = h;
    return true;
  }

  /** Forgets the `n` oldest stanzas. */
  private drop(n: number): void {
    const q = this.queue;
    const end = this.head + n;
    if (end === q.length) {
      q.length = 0;
      this.head = 0;
      return;
    }
    for (let i = this.head; i < end; i++) q[i] = undefined;
    this.head = end;
    // What is left moves to the front once the acknowledged part is most of the array.
    if (end >= 64 && end * 2 >= q.length) {
      q.copyWithin(0, end);
      q.length -= end;
      this.head = 0;
    }
  }

  /**
   * The answer to an `<r/>`: text at once (ConverseJS asks after every 5 stanzas it sends by default, the shipped web
   * chat after every 20).
   */
  ackText(): string {
    return `<a xmlns="${NS.SM}" h="${this.inbound}"/>`;
  }

  /** On resumption: what the client has not acknowledged, handed over to be sent (and queued) again. */
  takePending(): PendingStanza[] {
    const q = this.queue.slice(this.head) as PendingStanza[];
    this.queue = [];
    this.head = 0;
    this.awaitingAck = false; // a request sent on the old connection may never have arrived
    return q;
  }
}

/** Sessions waiting for their client to come back, by SM id. */
export interface Resumable {
  readonly smId: string;
  readonly host: string;
  readonly username: string;
}

export class ResumptionRegistry {
  private byId = new Map<string, Resumable>();

  add(s: Resumable): void {
    this.byId.set(s.smId, s);
  }
  remove(s: Resumable): void {
    if (this.byId.get(s.smId) === s) this.byId.delete(s.smId);
  }
  get(id: string): Resumable | undefined {
    return this.byId.get(id);
  }
  get size(): number {
    return this.byId.size;
  }
}
