// One simulated anonymous viewer, doing on join what the livechat front-end (ConverseJS) does: disco of the host,
// roster, own vCard, carbons, then disco of the room and its x-roomuser-item, the room's vCard, the join (asking for
// no history: the room has MAM), a MAM page of the last messages (the history it shows), and a vCard request for every
// occupant it sees (and each newcomer). Where the server offers stream management it enables it and answers the
// server's ack requests, and asks for acks of its own, as ConverseJS does.
import { randomUUID } from 'node:crypto';
import * as x from './protocol.js';
import { BoshTransport, WsTransport, type Transport, type TransportEvents } from './transport.js';
import { emptySamples, type ClientEndpoint, type SampleBatch, type ViewerOptions } from './messages.js';

// performance.timeOrigin is a getter that costs more than performance.now() itself; it never changes
const origin = performance.timeOrigin;
export const now = (): number => origin + performance.now();

/** Counters shared by all viewers of one worker; the worker drains them into reports. */
export class Tally {
  samples: SampleBatch = emptySamples();
  bytesPayload = 0;
  deliveries = 0;
  presences = 0; // room presences received (joins, updates, leaves, nick changes of anyone)
  sent = 0;
  vcardsReceived = 0;
  vcardBytes = 0;
  vcardPhotos = 0;
  /** XEP-0198 ack requests: the viewers' own (`<r/>` sent), and the server's (`<r/>` received, each answered). */
  smRequestsSent = 0;
  smRequestsReceived = 0;
  /** When the latest vCard answer of this report arrived (absolute ms, 0 if none). */
  lastVcardAt = 0;
  errors: Record<string, number> = {};
  outstandingIqs = 0;
  lateIqs = 0; // timed out at the client but not answered yet: the server still owes them
  error(kind: string): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
  }
  /** A vCard answer arrived (in time or late: its true round trip either way) for a request sent at `sentAt`. */
  vcardAnswered(stanza: string, sentAt: number): void {
    const t = now();
    this.samples.vcard.push(t - sentAt);
    this.vcardsReceived++;
    this.vcardBytes += stanza.length;
    this.lastVcardAt = t;
    if (stanza.includes('<BINVAL>')) this.vcardPhotos++;
  }
}

const isStanza = (s: string): boolean => s.startsWith('<iq') || s.startsWith('<message') || s.startsWith('<presence');

type IqDone = (type: string, stanza: string) => void;
interface PendingIq {
  purpose: string;
  sentAt: number;
  done: IqDone;
}

type State = 'idle' | 'auth' | 'bound' | 'preparing' | 'joining' | 'joined' | 'left' | 'failed';

export class Viewer {
  state: State = 'idle';
  ready = false; // MAM page received
  mamAnswered = false; // MAM answered in any way (result, error or timeout)
  nick: string;
  private transport: Transport | undefined;
  private pending = new Map<string, PendingIq>();
  private late = new Map<string, PendingIq>(); // timed out, still counted if the answer comes after all
  private seenNicks = new Set<string>();
  private startedAt = 0;
  private joinSentAt = 0;
  /** When the stream was bound (login done), for the pre-join requests' time. */
  private boundAt = 0;
  /** When the transport came up (WebSocket open), to split the login in two. */
  private openedAt = 0;
  private nickChange: { nick: string; sentAt: number } | undefined;
  private joinTimer: NodeJS.Timeout | undefined;
  /** Set on the streamer: it creates the room and unlocks it with an instant configuration if needed. */
  createsRoom = false;
  historyAt = 0; // absolute time the viewer had its history (see ViewerOptions.joinHistory)
  seatedAt = 0; // absolute time the viewer was seated: its join's presences and the room subject had arrived
  /** Stream management is on (the server sent `<enabled/>`): stanzas are counted both ways. */
  private smOn = false;
  /** Stanzas received since `<enabled/>` (the `h` of our answers). */
  private smHandled = 0;
  /** Stanzas sent since our last ack request. */
  private smSentSinceRequest = 0;
  private onJoined: (() => void) | undefined;

  constructor(
    readonly index: number,
    private readonly endpoint: ClientEndpoint,
    private readonly options: ViewerOptions,
    private readonly tally: Tally,
    nick?: string,
  ) {
    // livechat names anonymous viewers "Anonymous NNNNNN"; the index keeps nicks unique within a run
    this.nick = nick ?? `Anonymous ${String(100000 + index).padStart(6, '0')}`;
  }

  get occupantJid(): string {
    return `${this.endpoint.room}/${this.nick}`;
  }

  get inRoom(): boolean {
    return this.state === 'joined';
  }

  /** Connects and runs the whole join flow; `onJoined` is called once the room subject (the end of the join) arrives. */
  start(onJoined?: () => void): void {
    if (this.state !== 'idle') return;
    this.onJoined = onJoined;
    this.startedAt = now();
    this.joinTimer = setTimeout(() => {
      if (this.state !== 'joined' && this.state !== 'left') this.fail('join-timeout');
    }, this.options.joinTimeoutMs);
    const events: TransportEvents = {
      onStanza: (s) => this.onStanza(s),
      onError: (kind) => this.tally.error(kind),
      onOpen: () => {
        this.openedAt = now();
        this.tally.samples.opened.push(this.openedAt - this.startedAt);
      },
      onClose: () => {
        if (this.state !== 'left' && this.state !== 'failed') {
          this.tally.error('closed-by-server');
          this.state = 'failed';
        }
        this.clearPending();
        if (this.joinTimer) clearTimeout(this.joinTimer);
      },
    };
    const t =
      this.options.transport === 'bosh'
        ? new BoshTransport(this.endpoint.boshUrl, this.options.joinTimeoutMs, events)
        : new WsTransport(this.endpoint.wsUrl, this.options.deflate, this.options.joinTimeoutMs, events);
    this.transport = t;
    // payload bytes are tallied as they arrive, through a wrapper around onStanza
    const onStanza = events.onStanza;
    let seen = 0;
    events.onStanza = (s) => {
      this.tally.bytesPayload += t.payloadBytes - seen;
      seen = t.payloadBytes;
      onStanza(s);
    };
    this.state = 'auth';
    t.start(this.endpoint.anonHost);
  }

  private send(s: string): void {
    this.transport?.send(s);
    // ConverseJS's smacks_max_unacked_stanzas: an ack request after every N stanzas sent
    if (this.smOn && isStanza(s) && ++this.smSentSinceRequest >= this.options.smRequestEvery) {
      this.smSentSinceRequest = 0;
      this.tally.smRequestsSent++;
      this.transport?.send(x.smRequest());
    }
  }

  get wireBytes(): number {
    return this.transport?.wireBytes() ?? 0;
  }

  /**
   * Ids as ConverseJS makes them: a UUID, with `:sendIQ` for its iqs. Their length matters to the server: a kept
   * attribute of 13 characters or more is a view of the whole frame it was read from (V8 sliced strings).
   */
  private nextId(suffix = ':sendIQ'): string {
    return randomUUID() + suffix;
  }

  private iq(purpose: string, build: (id: string) => string, done: IqDone = () => {}): void {
    const id = this.nextId();
    this.pending.set(id, { purpose, sentAt: now(), done });
    this.tally.outstandingIqs++;
    this.send(build(id));
  }

  /** Called by the worker once a second: iqs without answer past the timeout are counted and forgotten. */
  sweep(t: number): void {
    if (this.pending.size === 0) return;
    for (const [id, p] of this.pending) {
      if (t - p.sentAt > this.options.iqTimeoutMs) {
        this.pending.delete(id);
        this.tally.outstandingIqs--;
        this.tally.error('timeout:' + p.purpose);
        if (this.late.size < 100_000) {
          this.late.set(id, p);
          this.tally.lateIqs++;
        }
        p.done('timeout', '');
      }
    }
  }

  private clearPending(): void {
    this.tally.outstandingIqs -= this.pending.size;
    this.pending.clear();
    this.tally.lateIqs -= this.late.size;
    this.late.clear();
  }

  private fail(kind: string): void {
    this.tally.error(kind);
    this.state = 'failed';
    this.clearPending();
    void this.transport?.close([], 100);
  }

  private onStanza(s: string): void {
    const head = x.headOf(s);
    const name = x.nameOf(head);
    if (this.smOn && (name === 'message' || name === 'presence' || name === 'iq')) this.smHandled++;
    switch (name) {
      case 'message':
        return this.onMessage(s, head);
      case 'presence':
        return this.onPresence(s, head);
      case 'iq':
        return this.onIq(s, head);
      case 'open':
        return;
      case 'r':
        this.tally.smRequestsReceived++;
        if (this.smOn) this.transport?.send(x.smAnswer(this.smHandled));
        return;
      case 'enabled':
        this.smOn = true;
        return;
      case 'failed':
        this.tally.error('sm-failed');
        return;
      case 'stream:features':
      case 'features':
        return this.onFeatures(s);
      case 'success':
        if (this.openedAt) this.tally.samples.authed.push(now() - this.openedAt);
        this.state = 'bound';
        this.transport?.restart(this.endpoint.anonHost);
        return;
      case 'failure':
        return this.fail('sasl-failure');
      case 'close':
        if (this.state !== 'left') this.fail('stream-closed-by-server');
        return;
      case 'stream:error':
      case 'error':
        return this.fail('stream-error:' + x.nameOf(x.headOf(s.slice(s.indexOf('<', 1)))));
      default:
        return;
    }
  }

  private onFeatures(s: string): void {
    if (this.state === 'auth') {
      if (s.indexOf('ANONYMOUS') < 0) return this.fail('no-anonymous-mechanism');
      this.send(x.authAnonymous());
      return;
    }
    // after SASL: bind, then the optional legacy session if the server insists on it
    const smOffered = this.options.streamManagement && s.indexOf('urn:xmpp:sm:3') >= 0;
    const needsSession = s.indexOf('urn:ietf:params:xml:ns:xmpp-session') >= 0 && s.indexOf('<optional') < 0;
    this.iq('bind', x.bind, (type) => {
      if (type !== 'result') return this.fail('bind-failed');
      const afterSession = (): void => {
        if (smOffered) this.send(x.smEnable());
        this.boundAt = now();
        this.tally.samples.connect.push(this.boundAt - this.startedAt);
        this.prepare();
      };
      if (needsSession) this.iq('session', x.session, afterSession);
      else afterSession();
    });
  }

  /** What ConverseJS does between login and joining the room, in two rounds of parallel requests. */
  private prepare(): void {
    this.state = 'preparing';
    const room = this.endpoint.room;
    let left = 4;
    const round2 = (): void => {
      if (--left > 0) return;
      let left2 = 3;
      const join = (): void => {
        if (--left2 > 0) return;
        this.join();
      };
      this.iq('disco-room', (id) => x.discoInfo(id, room), join);
      this.iq('roomuser-item', (id) => x.discoInfo(id, room, 'x-roomuser-item'), join);
      if (this.options.vcards === 'none') join();
      else this.vcard('vcard-room', room, join);
    };
    this.iq('disco-host', (id) => x.discoInfo(id, this.endpoint.anonHost), round2);
    this.iq('roster', x.rosterGet, round2);
    this.iq('carbons', x.carbonsEnable, round2);
    if (this.options.vcards === 'none') round2();
    else this.vcard('vcard-self', '', round2);
    this.send(x.initialPresence());
  }

  private vcard(purpose: string, to: string, done?: () => void): void {
    const sentAt = now();
    this.iq(
      purpose,
      (id) =>
        to ? x.vcardGet(id, to) : `<iq xmlns='jabber:client' type='get' id='${id}'><vCard xmlns='vcard-temp'/></iq>`,
      (type, stanza) => {
        if (type === 'result') this.tally.vcardAnswered(stanza, sentAt);
        done?.();
      },
    );
  }

  private join(): void {
    this.state = 'joining';
    this.joinSentAt = now();
    this.tally.samples.preJoin.push(this.joinSentAt - this.boundAt);
    this.send(x.joinPresence(this.occupantJid, this.options.joinHistory === 'muc'));
  }

  private onIq(s: string, head: string): void {
    const id = x.attrOf(head, 'id');
    const type = x.attrOf(head, 'type') ?? '';
    if (type === 'get' || type === 'set') {
      // ConverseJS answers pings and disco; answer everything with an empty result so servers see a live client
      if (id) this.send(`<iq xmlns='jabber:client' type='result' id='${id}' to='${x.attrOf(head, 'from') ?? ''}'/>`);
      return;
    }
    if (!id) return;
    const p = this.pending.get(id);
    if (!p) {
      const l = this.late.get(id);
      if (l) {
        // the server did answer, after the client gave up: keep its true round trip and bytes
        this.late.delete(id);
        this.tally.lateIqs--;
        this.tally.error('late-answer:' + l.purpose);
        if (type === 'result' && l.purpose.startsWith('vcard')) this.tally.vcardAnswered(s, l.sentAt);
      }
      return;
    }
    this.pending.delete(id);
    this.tally.outstandingIqs--;
    if (type === 'error') this.tally.error(`iq-error:${p.purpose}:${x.errorCondition(s)}`);
    p.done(type, s);
  }

  private onPresence(s: string, head: string): void {
    const from = x.attrOf(head, 'from');
    const room = this.endpoint.room;
    if (!from || !from.startsWith(room + '/')) return;
    this.tally.presences++;
    const nick = x.unescAttr(from.slice(room.length + 1));
    const type = x.attrOf(head, 'type');
    if (type === 'error') {
      if (this.state === 'joining') return this.fail('join-error:' + x.errorCondition(s));
      this.tally.error('presence-error:' + x.errorCondition(s));
      if (this.nickChange) this.nickChange = undefined;
      return;
    }
    if (type === 'unavailable') {
      // a rename (status 303) announces the new nick: the client keeps the occupant, and its vCard, under it
      if (!this.options.vcardOnRename && x.hasStatus(s, 303)) {
        const item = s.indexOf('<item');
        const newNick = item >= 0 ? x.attrOf(x.headOf(s.slice(item)), 'nick') : undefined;
        if (newNick) this.seenNicks.add(x.detached(x.unescAttr(newNick)));
      }
      return;
    }
    if (x.hasStatus(s, 110)) {
      // our own presence: the end of the occupant list on join, or the confirmation of a nick change
      if (this.createsRoom && x.hasStatus(s, 201))
        this.iq('instant-room', (id) => x.instantRoom(id, room, this.options.roomConfig));
      if (this.nickChange && nick === this.nickChange.nick) {
        this.tally.samples.nick.push(now() - this.nickChange.sentAt);
        this.nick = nick;
        this.nickChange = undefined;
      }
      this.seenNicks.add(x.detached(nick));
      return;
    }
    if (this.seenNicks.has(nick)) return;
    this.seenNicks.add(x.detached(nick));
    // ConverseJS keys anonymous occupants' vCards by occupant JID, so every nick it has not seen gets a request
    if (this.options.vcards === 'all') this.vcard('vcard-occupant', from);
  }

  private onMessage(s: string, head: string): void {
    const type = x.attrOf(head, 'type');
    if (type === 'error') {
      this.tally.error('message-error:' + x.errorCondition(s));
      return;
    }
    if (type !== 'groupchat') return; // MAM results come wrapped in a typeless message
    if (s.indexOf('<subject') >= 0 && this.state === 'joining') {
      if (this.options.joinHistory === 'muc') this.historyShown();
      this.state = 'joined';
      this.seatedAt = now();
      this.tally.samples.joinToSeated.push(this.seatedAt - this.startedAt);
      if (this.joinTimer) clearTimeout(this.joinTimer);
      this.onJoined?.();
      this.mam();
      return;
    }
    if (s.indexOf('urn:xmpp:delay') >= 0) return; // history
    const sentAt = x.sentAtOf(s);
    if (Number.isNaN(sentAt)) return;
    this.tally.deliveries++;
    this.tally.samples.delivery.push(now() - sentAt);
  }

  private historyShown(): void {
    const t = now();
    this.tally.samples.joinToHistory.push(t - this.startedAt);
    this.tally.samples.presenceToHistory.push(t - this.joinSentAt);
    this.historyAt = t;
  }

  private mam(): void {
    const sentAt = now();
    const qid = randomUUID();
    this.iq(
      'mam',
      (id) => x.mamLast(id, this.endpoint.room, qid, this.options.mamMax),
      (type) => {
        this.mamAnswered = true;
        if (type === 'result') {
          this.tally.samples.mam.push(now() - sentAt);
          this.ready = true;
          if (this.options.joinHistory === 'mam') this.historyShown();
        }
      },
    );
  }

  sendChat(tag: string): void {
    if (this.state !== 'joined') return;
    const id = this.nextId('');
    this.tally.sent++;
    this.send(x.chatMessage(id, this.endpoint.room, tag, now()));
  }

  get nickPending(): boolean {
    return this.nickChange !== undefined;
  }

  changeNick(newNick: string): void {
    if (this.state !== 'joined' || this.nickChange) return;
    this.nickChange = { nick: newNick, sentAt: now() };
    this.send(x.nickPresence(`${this.endpoint.room}/${newNick}`));
  }

  /** Leaves the room, closes the stream, and resolves when the socket is closed (bounded by `timeoutMs`). */
  leave(timeoutMs: number): Promise<void> {
    const wasIn = this.state === 'joined';
    if (this.state !== 'failed') this.state = 'left';
    if (this.joinTimer) clearTimeout(this.joinTimer);
    this.clearPending();
    if (!this.transport) return Promise.resolve();
    return this.transport.close(wasIn ? [x.leavePresence(this.occupantJid)] : [], timeoutMs);
  }
}
