// The SASL stage of a c2s stream (RFC 6120 §6): mechanism list, challenges, success or failure, retries.
import { el, type Element } from '../xml.js';
import { NS } from '../namespaces.js';
import type { StreamErrorCondition } from '../errors.js';
import type { SaslExchange, SaslMechanism, SaslStep } from '../sasl/mechanism.js';
import type { StreamTransport } from '../transport.js';
import type { C2SContext } from './context.js';

const MAX_ATTEMPTS = 3;

export class SaslNegotiation {
  private mechanisms: SaslMechanism[];
  private exchange: SaslExchange | null = null;
  private busy = false;
  private attempts = 0;

  constructor(
    private ctx: C2SContext,
    private transport: StreamTransport,
    private host: string,
    private onSuccess: (username: string) => void,
    private onFatal: (condition: StreamErrorCondition, text?: string) => void,
  ) {
    this.mechanisms = ctx.mechanisms(host, transport);
  }

  handle(e: Element): void {
    if (e.attrs.xmlns !== NS.SASL) {
      this.onFatal('not-authorized', 'authenticate first');
      return;
    }
    if (this.busy) {
      this.onFatal('policy-violation', 'SASL element sent while the previous one is being processed');
      return;
    }
    if (e.name === 'auth') {
      const mech = this.mechanisms.find((m) => m.name === e.attrs.mechanism);
      if (!mech) {
        this.reply(el('failure', { xmlns: NS.SASL }, el('invalid-mechanism')));
        return;
      }
      this.exchange = mech.start({ host: this.host, channelBinding: (t) => this.transport.channelBinding?.(t) });
      this.run(decode(e.getText()));
    } else if (e.name === 'response') {
      if (!this.exchange) {
        this.reply(el('failure', { xmlns: NS.SASL }, el('malformed-request')));
        return;
      }
      this.run(decode(e.getText()));
    } else if (e.name === 'abort') {
      this.exchange = null;
      this.reply(el('failure', { xmlns: NS.SASL }, el('aborted')));
    } else {
      this.onFatal('not-authorized', 'unexpected SASL element');
    }
  }

  private run(data: Buffer | null | 'bad'): void {
    if (data === 'bad') {
      this.exchange = null;
      this.reply(el('failure', { xmlns: NS.SASL }, el('incorrect-encoding')));
      return;
    }
    const exchange = this.exchange!;
    const address = this.transport.remoteAddress;
    const delay = this.ctx.limiter.delayFor(address);
    this.busy = true;
    const go = () =>
      exchange.step(data).then(
        (r) => this.result(r, address),
        (err: Error) => {
          this.ctx.log.error(`SASL failed internally: ${err.stack}`);
          this.result({ kind: 'failure', condition: 'temporary-auth-failure' }, address);
        },
      );
    if (delay > 0) setTimeout(go, delay).unref?.();
    else void go();
  }

  private result(r: SaslStep, address: string): void {
    this.busy = false;
    if (r.kind === 'challenge') {
      this.reply(el('challenge', { xmlns: NS.SASL }, r.data.length ? r.data.toString('base64') : '='));
      return;
    }
    this.exchange = null;
    if (r.kind === 'success') {
      this.ctx.limiter.succeeded(address);
      this.reply(el('success', { xmlns: NS.SASL }, r.data?.length ? r.data.toString('base64') : undefined));
      this.onSuccess(r.username);
      return;
    }
    if (r.condition === 'not-authorized') this.ctx.limiter.failed(address);
    this.reply(
      el('failure', { xmlns: NS.SASL }, el(r.condition), r.text ? el('text', { 'xml:lang': 'en' }, r.text) : undefined),
    );
    if (++this.attempts >= MAX_ATTEMPTS) this.onFatal('policy-violation', 'too many failed authentication attempts');
  }

  private reply(e: Element): void {
    this.transport.sendRaw(e.toString());
  }
}

/** SASL payloads: "=" is an empty response, no text is no response (RFC 6120 §6.4.2). */
function decode(text: string): Buffer | null | 'bad' {
  const t = text.trim();
  if (t === '') return null;
  if (t === '=') return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.length % 4 !== 0) return 'bad';
  return Buffer.from(t, 'base64');
}
