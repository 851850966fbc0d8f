// A stream a remote server opened to us (RFC 6120 receiving entity). It may: upgrade with STARTTLS, authenticate
// with SASL EXTERNAL, ask us to check its dialback keys (receiving role, any number of domain pairs: piggybacking),
// ask us whether a key we handed out is ours (authoritative role), and send stanzas — which are routed only when
// their `from` domain is verified on this very stream for their `to` domain. Anything else ends the stream.
import { el, type Element } from '../xmpp/xml.js';
import { NS } from '../xmpp/namespaces.js';
import { parseJid } from '../xmpp/jid.js';
import type { S2sContext } from './context.js';
import { newStreamId } from './context.js';
import type { S2sTransport, S2sStreamHandler } from './stream.js';

const STANZAS = new Set(['message', 'presence', 'iq']);
/** Dialback checks running at once on one stream; a peer flooding db:result gets a stream error. */
const MAX_PENDING_CHECKS = 32;

export class IncomingS2s implements S2sStreamHandler {
  id = '';
  /** The stream header's from/to (latest restart). */
  from = '';
  to = '';
  /** Domain authenticated by SASL EXTERNAL, allowed to send to any of our domains. */
  saslDomain: string | null = null;
  /** "remote|local" pairs verified by dialback on this stream. */
  readonly verified = new Set<string>();
  private pending = 0;
  /** Counts for tests and metrics. */
  stanzasRouted = 0;

  constructor(
    private ctx: S2sContext,
    readonly stream: S2sTransport,
    private onClosed: (s: IncomingS2s, reason: string) => void,
  ) {
    stream.handler = this;
  }

  get authenticated(): boolean {
    return this.saslDomain !== null || this.verified.size > 0;
  }

  opened(attrs: Record<string, string>): void {
    this.id = newStreamId();
    const to = (attrs.to ?? '').toLowerCase();
    this.from = (attrs.from ?? '').toLowerCase();
    this.to = to;
    const version = attrs.version === '1.0' ? '1.0' : undefined;
    // The header goes first so that any stream error that follows is well-formed (RFC 6120 §4.9.1.1).
    this.stream.open({
      from: this.ctx.isLocalDomain(to) ? to : undefined,
      to: this.from || undefined,
      id: this.id,
      version,
    });
    if (attrs['xmlns:stream'] !== NS.STREAM) return this.stream.fail('invalid-namespace');
    if (attrs.xmlns !== NS.SERVER) return this.stream.fail('invalid-namespace', 'server streams use jabber:server');
    if (to && !this.ctx.isLocalDomain(to)) return this.stream.fail('host-unknown', `this server does not serve ${to}`);
    if (version) this.stream.write(this.features().toString());
  }

  private features(): Element {
    const { config, trust } = this.ctx;
    const offered = this.ctx.features.offer({
      config,
      trust,
      stream: this.stream,
      from: this.from,
      saslDone: this.saslDomain !== null,
    });
    return el('stream:features', {}, ...offered);
  }

  element(e: Element): void {
    const ns = e.getNS();
    const name = e.getName();
    if (name === 'starttls' && ns === NS.TLS) return void this.startTls();
    if (!this.stream.secure && (this.ctx.config.requireEncryption || this.ctx.config.secureAuth)) {
      return this.stream.fail('policy-violation', 'encryption is required: use STARTTLS');
    }
    if (ns === NS.DIALBACK && name === 'result') return this.dialbackResult(e);
    if (ns === NS.DIALBACK && name === 'verify') return this.dialbackVerify(e);
    if (ns === NS.SASL && name === 'auth') return this.saslAuth(e);
    if (STANZAS.has(e.name) && ns === NS.SERVER) return this.stanza(e);
    this.stream.fail('unsupported-stanza-type', `<${e.name}/> is not expected here`);
  }

  private async startTls(): Promise<void> {
    if (this.stream.secure || !this.stream.canStartTls)
      return this.stream.fail('policy-violation', 'TLS is not available on this stream');
    await this.stream.upgradeServer((s) => this.ctx.wrapServerSocket(s));
  }

  // ---- SASL EXTERNAL (RFC 6120 §6.4, RFC 4422 appendix A) --------------------------------------------------

  private saslAuth(e: Element): void {
    const failure = (cond: string): void => {
      this.stream.write(el('failure', { xmlns: NS.SASL }, el(cond)).toString());
    };
    if (e.attrs.mechanism !== 'EXTERNAL') return failure('invalid-mechanism');
    if (this.saslDomain !== null) return this.stream.fail('policy-violation', 'already authenticated');
    const text = e.getText().trim();
    let authzid = '';
    if (text && text !== '=') {
      try {
        authzid = Buffer.from(text, 'base64').toString('utf8').toLowerCase();
      } catch {
        return failure('incorrect-encoding');
      }
    }
    const domain = authzid || this.from;
    const tlsSocket = this.stream.tlsSocket;
    if (!domain || (this.from && domain !== this.from) || !tlsSocket || !this.ctx.trust.validFor(tlsSocket, domain)) {
      this.ctx.log.debug(`s2s in ${this.stream.remoteAddress}: SASL EXTERNAL refused for "${domain}"`);
      return failure('not-authorized');
    }
    this.saslDomain = domain;
    this.stream.write(el('success', { xmlns: NS.SASL }).toString());
    this.stream.restart();
    this.ctx.log.info(`s2s in: ${domain} authenticated by certificate (SASL EXTERNAL)`);
  }

  // ---- dialback, receiving role (XEP-0220 §2.1.2) ----------------------------------------------------------

  private dialbackResult(e: Element): void {
    const from = (e.attrs.from ?? '').toLowerCase();
    const to = (e.attrs.to ?? '').toLowerCase();
    const key = e.getText().trim();
    if (e.attrs.type) return; // results flow the other way; ignore stray ones
    const reply = (type: 'valid' | 'invalid' | 'error', err?: Element): void => {
      this.stream.write(el('db:result', { from: to, to: from, type }, err).toString());
    };
    if (!from || !parseJid(from) || !key) return this.stream.fail('invalid-from', 'dialback needs from, to and a key');
    if (!this.ctx.isLocalDomain(to)) {
      return reply('error', el('error', { type: 'cancel' }, el('item-not-found', { xmlns: NS.STANZAS_ERR })));
    }
    if (this.pending >= MAX_PENDING_CHECKS) return this.stream.fail('policy-violation', 'too many dialback requests');
    const pair = `${from}|${to}`;
    const tlsSocket = this.stream.tlsSocket;
    // A certificate valid for the claimed domain proves as much as the dialback round trip would (XEP-0344).
    if (tlsSocket && this.ctx.trust.validFor(tlsSocket, from)) return this.accept(pair, from, to, 'certificate');
    if (this.ctx.config.secureAuth) {
      this.ctx.log.warn(`s2s in: refusing ${from}: no valid certificate (secureAuth)`);
      return reply('invalid');
    }
    this.pending++;
    const streamId = this.id;
    this.ctx.verifyDialback(to, from, streamId, key).then(
      (ok) => {
        this.pending--;
        if (this.stream.closed) return;
        if (ok) this.accept(pair, from, to, 'dialback');
        else {
          this.ctx.log.warn(`s2s in ${this.stream.remoteAddress}: dialback key for ${from} → ${to} is invalid`);
          reply('invalid');
        }
      },
      (err: Error) => {
        this.pending--;
        this.ctx.log.info(`s2s in: cannot check ${from}'s dialback key: ${err.message}`);
        reply('error', el('error', { type: 'cancel' }, el('remote-server-not-found', { xmlns: NS.STANZAS_ERR })));
      },
    );
  }

  private accept(pair: string, from: string, to: string, how: string): void {
    this.verified.add(pair);
    this.stream.write(el('db:result', { from: to, to: from, type: 'valid' }).toString());
    this.ctx.log.info(`s2s in: ${from} → ${to} verified (${how})`);
  }

  // ---- dialback, authoritative role (XEP-0220 §2.1.3) --------------------------------------------------------

  private dialbackVerify(e: Element): void {
    if (e.attrs.type) return;
    const receiving = (e.attrs.from ?? '').toLowerCase();
    const originating = (e.attrs.to ?? '').toLowerCase();
    const id = e.attrs.id ?? '';
    const ok =
      this.ctx.isLocalDomain(originating) &&
      !!receiving &&
      !!id &&
      this.ctx.keys.verify(receiving, originating, id, e.getText());
    if (!ok)
      this.ctx.log.warn(
        `s2s in ${this.stream.remoteAddress}: db:verify from ${receiving} for ${originating}: not our key`,
      );
    this.stream.write(
      el('db:verify', { from: originating, to: receiving, id, type: ok ? 'valid' : 'invalid' }).toString(),
    );
  }

  // ---- stanzas ----------------------------------------------------------------------------------------------

  private stanza(e: Element): void {
    const from = parseJid(e.attrs.from);
    const to = parseJid(e.attrs.to);
    if (!from || !to) return this.stream.fail('improper-addressing', 'stanzas between servers need valid from and to');
    const fromDomain = from.domain.toLowerCase();
    const toDomain = to.domain.toLowerCase();
    const bySasl = this.saslDomain === fromDomain && this.ctx.isLocalDomain(toDomain);
    if (!bySasl && !this.verified.has(`${fromDomain}|${toDomain}`)) {
      this.ctx.log.warn(
        `s2s in ${this.stream.remoteAddress}: stanza from unverified ${fromDomain} to ${toDomain}: closing`,
      );
      return this.stream.fail('not-authorized', `${fromDomain} is not verified on this stream for ${toDomain}`);
    }
    e.attrs.xmlns = NS.CLIENT; // the router and its handlers work in the client namespace
    this.stanzasRouted++;
    this.ctx.route(e);
  }

  closed(reason: string): void {
    this.onClosed(this, reason);
  }
}
