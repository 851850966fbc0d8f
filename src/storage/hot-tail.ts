// A room's hot tail: its newest messages kept in memory (history on join without disk), with their estimated
// size for the hot-room cache. Records not yet written are always in it, so anything older is in the files.
import { msgBytes } from './archive-results.js';
import type { ArchivedMessage } from './types.js';

export class HotTail {
  private items: ArchivedMessage[] = [];
  /** Estimated bytes of memory held (used as the room's lru-cache size). */
  bytes = 0;

  constructor(private readonly nextSeq: () => number) {}

  get length(): number {
    return this.items.length;
  }

  /** The tail's first seq (the room's next seq when empty): every seq below it is on disk. */
  get floor(): number {
    return this.items.length ? this.items[0].seq : this.nextSeq();
  }

  /** All of it, oldest first (the caller must not change the array). */
  all(): readonly ArchivedMessage[] {
    return this.items;
  }

  /** Messages with seq in [a, b] that the tail holds. */
  range(a: number, b: number): ArchivedMessage[] {
    const tf = this.floor;
    if (b < tf) return [];
    return this.items.slice(Math.max(a, tf) - tf, b - tf + 1);
  }

  /** The last n entries. */
  last(n: number): ArchivedMessage[] {
    return this.items.slice(-n);
  }

  at(seq: number): ArchivedMessage | undefined {
    const tf = this.floor;
    return seq >= tf ? this.items[seq - tf] : undefined;
  }

  /** The first message whose timestamp is >= t, if the tail holds one older than t (else undefined). */
  seqAtOrAfter(t: number): number | undefined {
    const tail = this.items;
    if (!tail.length || tail[0].ts >= t) return undefined;
    let lo = 0;
    let hi = tail.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tail[mid].ts < t) lo = mid + 1;
      else hi = mid;
    }
    return lo < tail.length ? tail[lo].seq : this.nextSeq();
  }

  set(items: ArchivedMessage[]): void {
    this.items = items;
    this.bytes = items.reduce((n, m) => n + msgBytes(m), 0);
  }

  push(m: ArchivedMessage): void {
    this.items.push(m);
    this.bytes += msgBytes(m);
  }

  /** Older messages read back from disk, put in front (the caller checked they end right before the floor). */
  prepend(older: ArchivedMessage[]): void {
    if (!older.length) return;
    this.items = older.concat(this.items);
    for (const m of older) this.bytes += msgBytes(m);
  }

  /** Swaps the entry of seq (a retraction's tombstone); no-op when the tail does not hold it. */
  replace(seq: number, make: (old: ArchivedMessage) => ArchivedMessage): void {
    const tf = this.floor;
    if (seq < tf || seq >= tf + this.items.length) return;
    const old = this.items[seq - tf];
    const m = make(old);
    this.bytes += msgBytes(m) - msgBytes(old);
    this.items[seq - tf] = m;
  }

  /** Drops the oldest n entries. */
  dropOldest(n: number): void {
    const k = Math.min(n, this.items.length);
    if (k <= 0) return;
    for (let i = 0; i < k; i++) this.bytes -= msgBytes(this.items[i]);
    this.items = this.items.slice(k);
  }

  /**
   * Keeps about `keep` entries: trims in steps (not on every append) and never drops records at or above
   * `writtenSeq` (not on disk yet).
   */
  trim(keep: number, writtenSeq: number): void {
    const excess = this.items.length - keep;
    if (excess <= 0 || (excess < 64 && keep > 0)) return;
    this.dropOldest(Math.min(excess, writtenSeq - this.floor));
  }
}
