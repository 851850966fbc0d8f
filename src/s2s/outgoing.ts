// A stream we open to a remote server for one domain pair (local → remote), RFC 6120 initiating entity:
// connect through the route's dialer (TCP or WebSocket), STARTTLS when offered (TCP), then SASL EXTERNAL when offered (falling back to dialback when it
// fails) or dialback (XEP-0220 initiating role). Stanzas wait in a bounded queue until the stream is ready.
// The same stream carries our db:verify questions to the remote's authoritative server (receiving role).
import { el, type Element } from '../xmpp/xml.js';
import { NS } from '../xmpp/namespaces.js';
import type { S2sContext } from './context.js';
import type { S2sTransport, S2sStreamHandler } from './stream.js';
import { DialError, type FailureKind, type S2sDialer } from './dialer.js';

export type { FailureKind } from './dialer.js';

export interface QueuedStanza {
  xml: string;
  element?: Element;
}

export interface OutgoingEvents {
  ready(s: OutgoingS2s): void;
  /** The stream is gone; `queued` stanzas were never sent and must be bounced. */
  closed(s: OutgoingS2s, queued: QueuedStanza[], kind: FailureKind, reason: string): void;
}

type State = 'resolving' | 'connecting' | 'negotiating' | 'ready' | 'closed';

export class OutgoingS2s implements S2sStreamHandler {
  state: State = 'resolving';
  stream: S2sTransport | null = null;
  authMethod: 'sasl' | 'dialback' | null = null;
  private queue: QueuedStanza[] = [];
  private remoteStreamId = '';
  private externalTried = false;
  private saslDone = false;
  private dialbackSent = false;
  private canVerify = false;
  private verifies = new Map<string, { key: string; resolve(ok: boolean): void }>();
  private deadline: NodeJS.Timeout;
  private failKind: FailureKind = 'not-found';
  private cancelDial: (() => void) | null = null;
  sentCount = 0;

  constructor(
    private ctx: S2sContext,
    private dialer: S2sDialer,
    readonly local: string,
    readonly remote: string,
    private events: OutgoingEvents,
  ) {
    this.deadline = setTimeout(
      () => this.abort('timeout', 'connection timed out'),
      ctx.config.connectTimeoutSeconds * 1000,
    );
    this.deadline.unref();
    void this.connect();
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Sends or queues a serialized jabber:server stanza. False when the queue is full. */
  send(item: QueuedStanza): boolean {
    if (this.state === 'ready' && this.stream) {
      this.stream.write(item.xml);
      this.sentCount++;
      return true;
    }
    if (this.queue.length >= this.ctx.config.maxQueuedStanzas) return false;
    this.queue.push(item);
    return true;
  }

  /** Asks the remote's authoritative server whether it issued `key` for a stream we received (id `streamId`). */
  verify(streamId: string, key: string): Promise<boolean> {
    return new Promise((resolve) => {
      const prev = this.verifies.get(streamId);
      if (prev) prev.resolve(false); // a second key for the same stream replaces the first
      this.verifies.set(streamId, { key, resolve });
      if (this.canVerify) this.sendVerify(streamId, key);
    });
  }

  private sendVerify(id: string, key: string): void {
    this.stream?.write(el('db:verify', { from: this.local, to: this.remote, id }, key).toString());
  }

  // ---- connecting ------------------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    this.state = 'connecting';
    let stream: S2sTransport;
    try {
      stream = await this.dialer(this.local, this.remote, (cancel) => {
        this.cancelDial = cancel;
      });
    } catch (err) {
      return this.abort(err instanceof DialError ? err.kind : 'not-found', (err as Error).message);
    }
    if (this.state !== 'connecting') {
      stream.close(undefined, 'no longer needed');
      return;
    }
    this.attach(stream);
  }

  private attach(stream: S2sTransport): void {
    this.cancelDial = null;
    this.stream = stream;
    stream.handler = this;
    this.state = 'negotiating';
    this.openStream();
  }

  private openStream(): void {
    this.stream!.open({ from: this.local, to: this.remote, version: '1.0' });
  }

  // ---- negotiation -----------------------------------------------------------------------------------------

  opened(attrs: Record<string, string>): void {
    this.remoteStreamId = attrs.id ?? '';
    if (attrs.xmlns !== NS.SERVER || attrs['xmlns:stream'] !== NS.STREAM) return this.stream!.fail('invalid-namespace');
    if (attrs.version !== '1.0') {
      // A pre-RFC 6120 server sends no features: dialback straight away.
      if (this.ctx.config.requireEncryption || this.ctx.config.secureAuth)
        return this.stream!.fail('policy-violation', 'encryption is required');
      this.readyForDialback(true);
    }
  }

  element(e: Element): void {
    const ns = e.getNS();
    const name = e.getName();
    if (name === 'features' && ns === NS.STREAM) return this.features(e);
    if (name === 'proceed' && ns === NS.TLS) return void this.startTls();
    if (ns === NS.SASL && name === 'success') return this.saslSuccess();
    if (ns === NS.SASL && name === 'failure') return this.saslFailure();
    if (ns === NS.DIALBACK && name === 'result') return this.dialbackResult(e);
    if (ns === NS.DIALBACK && name === 'verify') return this.verifyAnswer(e);
    if (name === 'error' && ns === NS.STREAM) {
      const cond = e.children.find((c) => typeof c !== 'string' && c.attrs.xmlns === NS.STREAMS_ERR) as
        Element | undefined;
      return this.abort('not-found', `stream error from ${this.remote}: ${cond?.name ?? 'unknown'}`);
    }
    if (name === 'failure' && ns === NS.TLS) return this.abort('not-found', 'TLS refused by the peer');
    // Streams are one-way (RFC 6120 §4.1): a server does not send stanzas on the stream we opened.
    this.ctx.log.debug(`s2s out ${this.local} → ${this.remote}: ignored <${e.name}/>`);
  }

  private features(f: Element): void {
    const stream = this.stream!;
    if (this.saslDone) return this.becomeReady('sasl');
    if (!stream.secure && stream.canStartTls && f.getChild('starttls', NS.TLS)) {
      stream.write(el('starttls', { xmlns: NS.TLS }).toString());
      return;
    }
    const { requireEncryption, secureAuth } = this.ctx.config;
    if (!stream.secure && (requireEncryption || secureAuth))
      return this.abort('not-found', `${this.remote} does not offer TLS`);
    const peerValid = !!stream.tlsSocket && this.ctx.trust.validFor(stream.tlsSocket, this.remote);
    if (secureAuth && !peerValid)
      return this.abort('not-found', `${this.remote} has no valid certificate (secureAuth)`);
    const mechs = f.getChild('mechanisms', NS.SASL);
    const external = mechs?.getChildren('mechanism').some((m) => m.getText().trim() === 'EXTERNAL');
    this.canVerify = true;
    for (const [id, v] of this.verifies) this.sendVerify(id, v.key);
    if (external && stream.secure && !this.externalTried) {
      this.externalTried = true;
      stream.write(
        el('auth', { xmlns: NS.SASL, mechanism: 'EXTERNAL' }, Buffer.from(this.local).toString('base64')).toString(),
      );
      return;
    }
    this.readyForDialback(false);
  }

  private readyForDialback(legacy: boolean): void {
    if (legacy) {
      this.canVerify = true;
      for (const [id, v] of this.verifies) this.sendVerify(id, v.key);
    }
    if (this.dialbackSent) return;
    this.dialbackSent = true;
    const key = this.ctx.keys.generate(this.remote, this.local, this.remoteStreamId);
    this.stream!.write(el('db:result', { from: this.local, to: this.remote }, key).toString());
  }

  private async startTls(): Promise<void> {
    if (!this.stream!.canStartTls) return this.abort('not-found', 'STARTTLS is not possible on this transport');
    const ok = await this.stream!.upgradeClient(this.ctx.clientTlsOptions(this.local, this.remote));
    if (ok) this.openStream();
  }

  private saslSuccess(): void {
    this.saslDone = true;
    this.stream!.restart();
    this.openStream();
  }

  private saslFailure(): void {
    // ejabberd offers EXTERNAL even when it cannot accept our certificate: dialback is the fallback.
    this.ctx.log.debug(`s2s out ${this.local} → ${this.remote}: SASL EXTERNAL refused, trying dialback`);
    if (this.ctx.config.secureAuth) return this.abort('not-found', `${this.remote} refused our certificate`);
    this.readyForDialback(false);
  }

  private dialbackResult(e: Element): void {
    if (e.attrs.from?.toLowerCase() !== this.remote || e.attrs.to?.toLowerCase() !== this.local) return;
    if (e.attrs.type === 'valid') return this.becomeReady('dialback');
    this.abort('not-found', `${this.remote} refused our dialback key (${e.attrs.type ?? 'no type'})`);
  }

  private verifyAnswer(e: Element): void {
    const v = this.verifies.get(e.attrs.id ?? '');
    if (!v || e.attrs.from?.toLowerCase() !== this.remote) return;
    this.verifies.delete(e.attrs.id!);
    v.resolve(e.attrs.type === 'valid');
  }

  private becomeReady(how: 'sasl' | 'dialback'): void {
    if (this.state === 'ready') return;
    clearTimeout(this.deadline);
    this.state = 'ready';
    this.authMethod = how;
    this.ctx.log.info(
      `s2s out ${this.local} → ${this.remote}: ready (${how}${this.stream!.secure ? ', TLS' : ', no TLS'})`,
    );
    const q = this.queue;
    this.queue = [];
    for (const item of q) {
      this.stream!.write(item.xml);
      this.sentCount++;
    }
    this.events.ready(this);
  }

  // ---- ending ----------------------------------------------------------------------------------------------

  /** Gives up: the stream (if any) ends; queued stanzas go back to the service for bouncing. */
  abort(kind: FailureKind, reason: string): void {
    if (this.state === 'closed') return;
    this.failKind = kind;
    if (this.stream && !this.stream.closed) this.stream.close(undefined, reason);
    else this.closed(reason);
  }

  /** Closes an idle or shut-down stream cleanly. */
  close(): void {
    this.abort('not-found', 'closed');
  }

  closed(reason: string): void {
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    clearTimeout(this.deadline);
    this.cancelDial?.();
    this.cancelDial = null;
    for (const v of this.verifies.values()) v.resolve(false);
    this.verifies.clear();
    const q = this.queue;
    this.queue = [];
    if (!wasReady) this.ctx.log.info(`s2s out ${this.local} → ${this.remote}: failed: ${reason}`);
    else this.ctx.log.debug(`s2s out ${this.local} → ${this.remote}: closed: ${reason}`);
    this.events.closed(this, q, this.failKind, reason);
  }

  get lastActivity(): number {
    return this.stream?.lastActivity ?? Date.now();
  }
}
