// Slows down repeated SASL failures from one address, so password guessing costs time.
import { boundedLru } from '../../bounded-lru.js';

const FREE_FAILURES = 2;
const MAX_DELAY_MS = 10_000;

export class AuthLimiter {
  private failures = boundedLru<string, number>(50_000, { ttl: 10 * 60_000 });

  /** Milliseconds to wait before answering an attempt from this address. */
  delayFor(address: string): number {
    const n = this.failures.get(address) ?? 0;
    if (n <= FREE_FAILURES) return 0;
    return Math.min(MAX_DELAY_MS, 250 * 2 ** (n - FREE_FAILURES - 1));
  }

  failed(address: string): void {
    this.failures.set(address, (this.failures.get(address) ?? 0) + 1);
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }
}
