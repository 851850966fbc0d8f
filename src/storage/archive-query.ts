// XEP-0313 queries over one room's records: bounds by time and id, RSM paging in both directions, and the `with`
// filter that forces a scan. It only needs a seq-addressed view of the room (ArchiveView), not how it is stored.
import { compileWith, pageInMemory, result } from './archive-results.js';
import type { ArchiveQuery, ArchiveResult, ArchivedMessage } from './types.js';

/** Records read or scanned per step when a `with` filter forces a scan. */
const SCAN_CHUNK = 512;

/** What a query reads: records by seq, and where the visible ones begin and end. */
export interface ArchiveView {
  /** Seq after the newest record. */
  readonly nextSeq: number;
  /** Lowest seq a reader may see now. */
  visibleFloor(): Promise<number>;
  /** The first seq whose timestamp is >= t (nextSeq if none). */
  seqAtOrAfter(t: number): Promise<number>;
  /** The seq of a visible id; throws ArchiveItemNotFoundError otherwise. */
  resolveId(id: string, floor: number): number;
  /** Records [a, b], oldest first. */
  readRange(a: number, b: number): Promise<ArchivedMessage[]>;
}

export async function runArchiveQuery(view: ArchiveView, q: ArchiveQuery): Promise<ArchiveResult> {
  const max = Math.max(0, Math.floor(q.max));
  const floor = await view.visibleFloor();
  let lo = floor;
  let hi = view.nextSeq - 1;
  if (q.start !== undefined) lo = Math.max(lo, await view.seqAtOrAfter(q.start));
  if (q.end !== undefined) hi = Math.min(hi, (await view.seqAtOrAfter(q.end + 1)) - 1);
  if (q.afterId !== undefined) lo = Math.max(lo, view.resolveId(q.afterId, floor) + 1);
  if (q.beforeId !== undefined) hi = Math.min(hi, view.resolveId(q.beforeId, floor) - 1);
  const after = q.after ? view.resolveId(q.after, floor) : undefined;
  const before = q.before ? view.resolveId(q.before, floor) : undefined;
  const backward = q.before !== undefined;
  const match = q.with ? compileWith(q.with) : undefined;

  if (q.ids) {
    const seqs = [...new Set(q.ids.map((id) => view.resolveId(id, floor)))].sort((a, b) => a - b);
    const items: ArchivedMessage[] = [];
    for (const s of seqs) {
      if (s < lo || s > hi) continue;
      const [m] = await view.readRange(s, s);
      if (m && (!match || match(m))) items.push(m);
    }
    return pageInMemory(items, max, after, before, backward, q.index);
  }

  if (!match) {
    const count = Math.max(0, hi - lo + 1);
    let from: number;
    let to: number;
    let complete: boolean;
    if (backward) {
      to = before !== undefined ? Math.min(hi, before - 1) : hi;
      from = Math.max(lo, to - max + 1);
      complete = from <= lo;
    } else {
      from = after !== undefined ? Math.max(lo, after + 1) : lo + (q.index ?? 0);
      to = Math.min(hi, from + max - 1);
      complete = to >= hi;
    }
    if (max === 0) return { items: [], complete: count === 0, count };
    const items = to >= from ? await view.readRange(from, to) : [];
    return result(items, complete, count, items.length ? from - lo : undefined);
  }

  // Filtered: scan in chunks in the paging direction until one more match than the page is found.
  const items: ArchivedMessage[] = [];
  let skip = backward || after !== undefined ? 0 : (q.index ?? 0);
  let more = false;
  if (backward) {
    let pos = before !== undefined ? Math.min(hi, before - 1) : hi;
    while (pos >= lo && !more) {
      const a = Math.max(lo, pos - SCAN_CHUNK + 1);
      const chunk = await view.readRange(a, pos);
      for (let i = chunk.length - 1; i >= 0; i--) {
        if (!match(chunk[i])) continue;
        if (items.length === max) {
          more = true;
          break;
        }
        items.push(chunk[i]);
      }
      pos = a - 1;
    }
    items.reverse();
  } else {
    let pos = after !== undefined ? Math.max(lo, after + 1) : lo;
    while (pos <= hi && !more) {
      const b = Math.min(hi, pos + SCAN_CHUNK - 1);
      const chunk = await view.readRange(pos, b);
      for (const m of chunk) {
        if (!match(m)) continue;
        if (skip > 0) {
          skip--;
          continue;
        }
        if (items.length === max) {
          more = true;
          break;
        }
        items.push(m);
      }
      pos = b + 1;
    }
  }
  return result(items, !more, undefined, undefined);
}
