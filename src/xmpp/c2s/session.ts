// A client-to-server session (RFC 6120): stream open → SASL → restart → bind → established, independent of the
// transport carrying it. Established stanzas get a verified `from` and go to the router.
import { Element, el, escapeAttr } from '../xml.js';
import { NS } from '../namespaces.js';
import { jidOf, ownCopy, type JID } from '../jid.js';
import { StanzaError, errorReply, streamErrorElement, type StreamErrorCondition } from '../errors.js';
import type { LocalSession } from '../session-types.js';
import type { StreamTransport, TransportHandler } from '../transport.js';
import type { StreamManagement } from '../stream-management.js';
import type { C2SContext } from './context.js';
import type { C2SFeatureStream } from './features.js';
import { serializeForClient, isStanza } from './serialize.js';
import { randomString } from '../random.js';
import { SaslNegotiation } from './sasl-negotiation.js';
import { SessionPresence } from './presence.js';
import { SessionSm } from './sm.js';
import { StanzaRate } from './rate-limits.js';
import { excused } from '../stall-sweep.js';
import { ownBytes, type Prepared } from '../prepared.js';

type State = 'wait-open' | 'auth' | 'wait-restart' | 'bind' | 'established' | 'hibernating' | 'closed';

const MAX_RESOURCE_BYTES = 1023;

/** A resource with a C0 control character is refused (RFC 7622 forbids them in resourceparts). */
function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20) return true;
  return false;
}

export class C2SSession implements TransportHandler, LocalSession {
  private state: State = 'wait-open';
  private transport: StreamTransport | null;
  host = '';
  private sasl: SaslNegotiation | null = null;
  /** XEP-0198 (sm.ts): made when the client first sends an SM nonza (most viewers never do). */
  private smm: SessionSm | null = null;
  private get sm(): StreamManagement | null {
    return this.smm?.state ?? null;
  }
  private rate: StanzaRate | null;
  private hibernateTimer: NodeJS.Timeout | null = null;
  /** Broadcast and directed presence (presence.ts). */
  private readonly presence: SessionPresence;

  username = '';
  jid!: JID;
  fullJid = '';
  bareJid = '';
  available = false;
  priority = 0;
  carbons = false;
  anonymous = false;
  /** Start of the authentication deadline; moved forward by stalls of the server (excuseStall). */
  authClockStart = Date.now();
  lastActivity = Date.now();
  pingOutstanding = false;
  pingSentAt = 0;
  budgetBytes = 0;
  /** The bound JID as the UTF-8 of an attribute value: a prepared stanza's `to` for this session, encoded once. */
  private toBytes: Buffer | null = null;

  /** Kept from the first transport: a resumed stream keeps the address it authenticated from. */
  readonly remoteAddress: string;

  constructor(
    private ctx: C2SContext,
    transport: StreamTransport,
  ) {
    this.transport = transport;
    this.remoteAddress = transport.remoteAddress;
    this.rate = ctx.config.limits.rateLimitExempt.includes(transport.remoteAddress)
      ? null
      : new StanzaRate(ctx.config.limits);
    this.presence = new SessionPresence(this, ctx.router);
    ctx.connections.add(this);
  }

  get smId(): string {
    return this.sm?.id ?? '';
  }
  get isEstablished(): boolean {
    return this.state === 'established';
  }
  get isAuthenticated(): boolean {
    return this.state !== 'wait-open' && this.state !== 'auth';
  }
  get connected(): boolean {
    return this.transport !== null;
  }
  get transportKind(): string | undefined {
    return this.transport?.kind;
  }

  // ---- transport events -----------------------------------------------------

  streamOpened(attrs: Record<string, string>): void {
    this.lastActivity = Date.now();
    const to = (attrs.to ?? '').toLowerCase();
    if (this.state === 'wait-open' || this.state === 'auth') {
      if (!to || !this.ctx.isUserHost(to)) {
        this.openReply(to || this.ctx.config.domain);
        this.fail('host-unknown', to ? `${to} is not served here` : 'the stream has no "to"');
        return;
      }
      this.anonymous = this.ctx.isAnonymousHost(to);
      // Kept for the session's life: the configured string, not a slice of the <open/> it came in.
      const { domain, anonymousHost } = this.ctx.config;
      this.host = to === domain ? domain : to === anonymousHost ? anonymousHost : ownCopy(to);
      this.openReply(to);
      if (attrs.version !== '1.0') {
        this.fail('unsupported-version', 'XMPP 1.0 is required');
        return;
      }
      this.state = 'auth';
      this.sasl = new SaslNegotiation(
        this.ctx,
        this.transport!,
        to,
        (username) => this.authenticated(username),
        (c, t) => this.fail(c, t),
      );
      this.sendFeatures(this.ctx.features.preAuth.offer(this.featureStream()));
      return;
    }
    if (this.state === 'wait-restart') {
      if (to && to !== this.host) {
        this.openReply(this.host);
        this.fail('host-unknown');
        return;
      }
      this.openReply(this.host);
      this.state = 'bind';
      this.sendFeatures(this.ctx.features.postAuth.offer(this.featureStream()));
      return;
    }
    this.fail('invalid-xml', 'unexpected stream header');
  }

  element(stanza: Element): void {
    this.lastActivity = Date.now();
    this.pingOutstanding = false;
    switch (this.state) {
      case 'auth':
        this.sasl!.handle(stanza);
        return;
      case 'bind':
        this.preBind(stanza);
        return;
      case 'established':
        this.established(stanza);
        return;
      case 'wait-open':
      case 'wait-restart':
        this.fail('not-authorized', 'expected a stream header');
        return;
      default:
        return;
    }
  }

  streamClosed(): void {
    // The client ended the stream cleanly: no resumption is wanted (XEP-0198 §5).
    this.end(true);
  }

  streamError(condition: StreamErrorCondition, text?: string): void {
    if (this.state === 'wait-open') this.openReply(this.ctx.config.domain);
    this.fail(condition, text);
  }

  touch(): void {
    this.lastActivity = Date.now();
    this.pingOutstanding = false;
  }

  excuseStall(ms: number): void {
    const now = Date.now();
    this.lastActivity = excused(this.lastActivity, ms, now);
    if (!this.isAuthenticated) this.authClockStart = excused(this.authClockStart, ms, now);
    if (this.pingOutstanding) this.pingSentAt = excused(this.pingSentAt, ms, now);
  }

  transportClosed(): void {
    this.transport = null;
    if (this.state === 'established' && this.sm?.resumable) {
      this.hibernate();
      return;
    }
    this.end(false);
  }

  // ---- negotiation -----------------------------------------------------------

  private openReply(from: string): void {
    // The id is only the client's to read (nothing on this side refers to it later): not kept.
    this.transport?.sendOpen({ from, id: randomString(12, 'base64url'), version: '1.0', lang: 'en' });
  }

  private sendFeatures(features: Element[]): void {
    const f = el('stream:features', { 'xmlns:stream': NS.STREAM });
    for (const x of features) f.append(x);
    this.writeRaw(f.toString());
  }

  private authenticated(username: string): void {
    this.username = username;
    this.sasl = null;
    this.state = 'wait-restart';
    this.transport?.restartStream?.();
  }

  private featureStream(): C2SFeatureStream {
    return { host: this.host, anonymous: this.anonymous, transport: this.transport! };
  }

  private preBind(stanza: Element): void {
    if (stanza.attrs.xmlns === NS.SM && stanza.name === 'resume') {
      this.resume(stanza);
      return;
    }
    if (stanza.attrs.xmlns === NS.SM && stanza.name === 'enable') {
      this.writeRaw(el('failed', { xmlns: NS.SM }, el('unexpected-request', { xmlns: NS.STANZAS_ERR })).toString());
      return;
    }
    const bind = stanza.name === 'iq' && stanza.attrs.type === 'set' ? stanza.getChild('bind', NS.BIND) : undefined;
    if (!bind) {
      if (stanza.name === 'iq' && (stanza.attrs.type === 'get' || stanza.attrs.type === 'set')) {
        this.writeRaw(serializeForClient(errorReply(stanza, 'not-authorized')!));
        return;
      }
      this.fail('not-authorized', 'bind a resource first');
      return;
    }
    let resource = bind.getChildText('resource')?.trim() ?? '';
    if (Buffer.byteLength(resource) > MAX_RESOURCE_BYTES || hasControlChar(resource)) {
      this.writeRaw(serializeForClient(errorReply(stanza, new StanzaError('bad-request', 'invalid resource'))!));
      return;
    }
    if (!resource || this.anonymous) resource = randomString(6, 'hex');
    // Frozen like the parsed JIDs it stands in for (rooms keep it as the occupant's address).
    this.jid = Object.freeze(jidOf(this.username, this.host, resource));
    this.fullJid = this.jid.toString();
    this.bareJid = `${this.jid.local}@${this.jid.domain}`;
    const replaced = this.ctx.router.bind(this);
    if (replaced && replaced !== this) (replaced as C2SSession).fail('conflict', 'replaced by a new connection');
    this.state = 'established';
    this.writeRaw(
      serializeForClient(
        el('iq', { type: 'result', id: stanza.attrs.id }, el('bind', { xmlns: NS.BIND }, el('jid', {}, this.fullJid))),
      ),
    );
    this.ctx.log.debug(`bound ${this.fullJid} over ${this.transport?.kind}`);
  }

  private resume(req: Element): void {
    const prev = this.ctx.resumption.get(req.attrs.previd ?? '') as C2SSession | undefined;
    const h = Number(req.attrs.h);
    const sameOwner = prev && prev.host === this.host && (prev.username === this.username || prev.anonymous);
    if (!prev || !sameOwner || prev.state === 'closed' || !Number.isInteger(h) || !this.transport) {
      this.writeRaw(
        el(
          'failed',
          { xmlns: NS.SM, h: prev && sameOwner ? prev.sm!.inbound : undefined },
          el('item-not-found', { xmlns: NS.STANZAS_ERR }),
        ).toString(),
      );
      return;
    }
    const transport = this.transport;
    // This session was only a vehicle: the transport now carries the resumed one.
    this.transport = null;
    this.state = 'closed';
    this.ctx.connections.delete(this);
    this.ctx.sendBudget.release(this);
    prev.takeOver(transport, h);
  }

  /** Moves a hibernating (or still-connected) session onto a new transport (XEP-0198 §5). */
  private takeOver(transport: StreamTransport, h: number): void {
    if (this.transport) {
      const old = this.transport;
      this.transport = null;
      old.close(streamErrorElement('conflict', 'session resumed elsewhere'));
    }
    if (this.hibernateTimer) clearTimeout(this.hibernateTimer);
    this.hibernateTimer = null;
    this.transport = transport;
    (transport as { handler?: TransportHandler }).handler = this;
    this.ctx.connections.add(this);
    this.ctx.resumption.remove(this);
    this.state = 'established';
    this.lastActivity = Date.now();
    const sm = this.sm!;
    sm.ack(h);
    this.writeRaw(el('resumed', { xmlns: NS.SM, previd: sm.id, h: sm.inbound }).toString());
    for (const x of sm.takePending()) this.sendCounted(x, false);
    this.ctx.log.debug(`resumed ${this.fullJid}`);
  }

  // ---- established stream ----------------------------------------------------

  private established(stanza: Element): void {
    if (stanza.attrs.xmlns === NS.SM) {
      this.smm ??= new SessionSm(
        this,
        { write: (xml) => this.writeRaw(xml), fail: (c, t, a) => this.fail(c, t, a) },
        this.ctx.config.streamManagement,
        this.ctx.resumption,
      );
      this.smm.handle(stanza);
      return;
    }
    if (!isStanza(stanza)) {
      this.fail('unsupported-stanza-type', `<${stanza.name}/> is not a stanza`);
      return;
    }
    this.smm?.inbound();
    this.ctx.stats?.stanzaReceived();
    const from = stanza.attrs.from;
    if (
      from &&
      from !== this.fullJid &&
      from.toLowerCase() !== this.bareJid &&
      from.toLowerCase() !== this.fullJid.toLowerCase()
    ) {
      this.fail('invalid-from', `${from} is not this stream's address`);
      return;
    }
    stanza.attrs.from = this.fullJid;
    stanza.attrs.xmlns = NS.CLIENT;
    const verdict = this.rate?.check() ?? 'ok';
    if (verdict !== 'ok') {
      if (verdict === 'close') this.fail('policy-violation', 'too many stanzas: slow down');
      else if (!(stanza.name === 'iq' && stanza.attrs.type === 'result')) {
        // The sender learns what was dropped (RFC 6120 §8.3.3.18: resource-constraint, type wait).
        const reply = errorReply(stanza, 'resource-constraint', 'too many stanzas: slow down');
        if (reply) this.send(reply);
      }
      return;
    }
    switch (stanza.name) {
      case 'iq':
        this.iq(stanza);
        return;
      case 'presence':
        this.presence.handle(stanza);
        return;
      case 'message':
        this.message(stanza);
        return;
    }
  }

  private iq(stanza: Element): void {
    const type = stanza.attrs.type;
    const valid =
      stanza.attrs.id !== undefined && (type === 'get' || type === 'set' || type === 'result' || type === 'error');
    if (!valid || ((type === 'get' || type === 'set') && stanza.getChildElements().length !== 1)) {
      if (type !== 'result' && type !== 'error') this.send(errorReply(stanza, 'bad-request')!);
      return;
    }
    if (!stanza.attrs.to) stanza.attrs.to = this.bareJid; // RFC 6120 §10.3.3: handled on behalf of the account
    this.ctx.router.route(stanza, this);
  }

  private message(stanza: Element): void {
    if (!stanza.attrs.to) stanza.attrs.to = this.bareJid;
    this.ctx.router.notify('messageSent', stanza, this);
    this.ctx.router.route(stanza, this);
  }

  // ---- sending ----------------------------------------------------------------

  send(stanza: Element): void {
    this.sendCounted(serializeForClient(stanza), false);
  }

  /**
   * Sends a serialized stanza from a fan-out (a room's delivery). Messages may wait for the write-coalescing window
   * on a busy connection; presences do not, and take held messages with them, so a joining viewer's self-presence,
   * history and subject are never held.
   */
  sendRaw(xml: string): void {
    this.sendCounted(xml, xml.startsWith('<message'));
  }

  /**
   * A prepared stanza for this session (a room's fan-out, a MAM result): its bytes, copied rather than serialized.
   * Room messages and other occupants' presences may wait for the window (`deferrable`); answers never do.
   */
  sendPrepared(p: Prepared): void {
    this.sendCounted(p, p.deferrable);
  }

  /**
   * Sends a stanza (serialized, or prepared for this session's JID), counting it for stream management and dropping
   * clients that stop reading. `deferrable`: may wait for the write-coalescing window (write-coalescing.ts).
   */
  private sendCounted(x: string | Prepared, deferrable: boolean): void {
    if (this.state === 'closed') return;
    if (this.smm?.enabled) {
      // A prepared stanza is kept as is for resends: one shared object instead of a copy per recipient.
      const counted = this.smm.outbound(x);
      if (counted === 'overflow') {
        this.ctx.log.info(`${this.fullJid}: ${this.sm!.unacked} unacknowledged stanzas, closing`);
        this.fail('policy-violation', 'too many unacknowledged stanzas');
        return;
      }
      if (!this.transport) return; // hibernating: kept for the resumption
      if (typeof x === 'string') this.writeRaw(x, deferrable);
      else this.writePrepared(x, deferrable);
      // The request rides with its stanza: counted as sent now, whenever the bytes leave.
      if (counted === 'ask') this.writeRaw('<r xmlns="urn:xmpp:sm:3"/>', deferrable);
      return;
    }
    if (typeof x === 'string') this.writeRaw(x, deferrable);
    else this.writePrepared(x, deferrable);
  }

  private writeRaw(xml: string, deferrable = false): void {
    const t = this.transport;
    if (!t) return;
    const buffered = this.bufferedOrDrop(t);
    if (buffered < 0) return;
    t.sendRaw(xml, deferrable);
    // Characters, not bytes, and no framing: close enough for a running total the budget recounts exactly.
    this.ctx.sendBudget.note(this, buffered + xml.length);
  }

  private writePrepared(p: Prepared, deferrable: boolean): void {
    const t = this.transport;
    if (!t) return;
    if (!t.sendSplice) {
      this.writeRaw(p.forClient(this.fullJid), deferrable);
      return;
    }
    const buffered = this.bufferedOrDrop(t);
    if (buffered < 0) return;
    const to = (this.toBytes ??= ownBytes(escapeAttr(this.fullJid)));
    const head = p.spliceHead(to);
    const mid = p.spliceMid(to);
    const tail = p.spliceTail();
    t.sendSplice(head, mid, tail, deferrable);
    // A text tail counts its characters, as writeRaw does.
    this.ctx.sendBudget.note(this, buffered + head.length + mid.length + tail.length);
  }

  /** The bytes `t` still has to write, or -1 when past the per-client bound: the client stopped reading and is dropped. */
  private bufferedOrDrop(t: StreamTransport): number {
    const buffered = t.bufferedBytes();
    if (buffered <= this.ctx.config.limits.maxSendBufferBytes) return buffered;
    this.ctx.log.info(`${this.fullJid || t.remoteAddress}: client is not reading, dropping it`);
    this.ctx.stats?.slowClientDropped();
    this.transport = null;
    t.close();
    this.end(false);
    return -1;
  }

  /** Bytes written to this client and not yet handed to the kernel. */
  bufferedBytes(): number {
    return this.transport?.bufferedBytes() ?? 0;
  }

  /** Sends an XMPP ping (XEP-0199) when the client has been quiet; the reply counts as activity. */
  keepAlive(): void {
    if (this.pingOutstanding) return;
    this.pingOutstanding = true;
    this.pingSentAt = Date.now();
    if (this.state === 'established') {
      this.send(
        el(
          'iq',
          { type: 'get', id: 'keepalive-' + randomString(4, 'hex'), from: this.host, to: this.fullJid },
          el('ping', { xmlns: NS.PING }),
        ),
      );
    } else {
      this.transport?.ping?.();
    }
  }

  // ---- ending -------------------------------------------------------------------

  /** Ends the stream with an error (RFC 6120 §4.9): the client gets the error, then the stream closes. */
  fail(condition: StreamErrorCondition, text?: string, appCondition?: Element): void {
    if (this.state === 'closed') return;
    const t = this.transport;
    this.transport = null;
    t?.close(streamErrorElement(condition, text, appCondition));
    this.end(false);
  }

  /** Server-initiated close without error (shutdown uses system-shutdown). */
  close(condition?: 'system-shutdown'): void {
    if (condition) {
      this.fail(condition);
      return;
    }
    const t = this.transport;
    this.transport = null;
    t?.close();
    this.end(false);
  }

  private hibernate(): void {
    this.state = 'hibernating';
    this.ctx.connections.delete(this);
    this.ctx.sendBudget.release(this);
    const seconds = this.ctx.config.streamManagement.resumeTimeoutSeconds;
    this.hibernateTimer = setTimeout(() => {
      this.hibernateTimer = null;
      if (this.state === 'hibernating') this.end(false);
    }, seconds * 1000);
    this.hibernateTimer.unref?.();
    this.ctx.log.debug(`${this.fullJid} hibernating for ${seconds}s`);
  }

  private end(clean: boolean): void {
    if (this.state === 'closed') return;
    const wasBound = this.state === 'established' || this.state === 'hibernating';
    this.state = 'closed';
    if (this.hibernateTimer) clearTimeout(this.hibernateTimer);
    this.ctx.connections.delete(this);
    this.smm?.ended();
    this.ctx.sendBudget.release(this);
    const t = this.transport;
    this.transport = null;
    if (t) t.close();
    if (!wasBound) return;
    this.ctx.router.unbind(this);
    // RFC 6121 §4.6: the server sends unavailable presence on the user's behalf.
    this.presence.ended();
    this.ctx.log.debug(`${this.fullJid} ended (${clean ? 'closed by client' : 'connection lost'})`);
  }
}
