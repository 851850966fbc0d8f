// Flood limits: a stanza rate per connection and a connection rate per client address (token buckets).
import { boundedLru } from '../../bounded-lru.js';
import type { LimitsConfig } from '../../config.js';

/** Refills `rate` tokens a second up to `burst`; each event takes one. */
export class TokenBucket {
  private tokens: number;
  private at: number;
  constructor(
    private rate: number,
    private burst: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.at = now;
  }

  take(now = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export type StanzaVerdict = 'ok' | 'refuse' | 'close';

/**
 * One connection's stanza rate. Over the rate a stanza is refused with a stanza error, so the sender knows what
 * was not delivered; a client that keeps going after a burst's worth of refusals loses its stream.
 */
export class StanzaRate {
  private bucket: TokenBucket;
  private refused = 0;
  constructor(private limits: Pick<LimitsConfig, 'stanzasPerSecond' | 'stanzaBurst'>) {
    this.bucket = new TokenBucket(limits.stanzasPerSecond, limits.stanzaBurst);
  }

  check(now = Date.now()): StanzaVerdict {
    if (this.bucket.take(now)) {
      this.refused = 0;
      return 'ok';
    }
    return ++this.refused > this.limits.stanzaBurst ? 'close' : 'refuse';
  }
}

/** New connections per client address; addresses in `rateLimitExempt` (a local proxy, benches) are not counted. */
export class ConnectionRate {
  private buckets = boundedLru<string, TokenBucket>(100_000, { ttl: 10 * 60_000 });
  private exempt: Set<string>;
  constructor(
    private limits: Pick<LimitsConfig, 'connectionsPerSecondPerIp' | 'connectionBurstPerIp' | 'rateLimitExempt'>,
  ) {
    this.exempt = new Set(limits.rateLimitExempt);
  }

  admit(address: string, now = Date.now()): boolean {
    if (this.exempt.has(address)) return true;
    let b = this.buckets.get(address);
    if (!b) {
      b = new TokenBucket(this.limits.connectionsPerSecondPerIp, this.limits.connectionBurstPerIp, now);
      this.buckets.set(address, b);
    }
    return b.take(now);
  }
}
