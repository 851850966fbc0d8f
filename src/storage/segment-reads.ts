// Reads over a room's sealed and active segment files: records by seq range, and the seq a time bound falls on
// (timestamps never decrease, so a time bound is a seq bound found by binary search).
import type { StoredRecord } from './record.js';
import { SegmentInfo, ordinalAtOrAfter, readOrdinals, segFile } from './segment.js';

/** Records [a, b] from the segment files (callers guarantee all of them are written). */
export async function readSegmentRange(
  dir: string,
  segments: readonly SegmentInfo[],
  a: number,
  b: number,
): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  if (b < a) return out;
  const segs = segments.slice();
  let lo = 0;
  let hi = segs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (segs[mid].firstSeq + segs[mid].count <= a) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < segs.length; i++) {
    const s = segs[i];
    if (s.firstSeq > b) break;
    if (s.count === 0) continue;
    const fromOrd = Math.max(0, a - s.firstSeq);
    const toOrd = Math.min(s.count - 1, b - s.firstSeq);
    if (toOrd < fromOrd) continue;
    for (const r of await readOrdinals(segFile(dir, s.firstSeq), s, fromOrd, toOrd)) out.push(r);
  }
  return out;
}

/** The first seq in the files whose timestamp is >= t, or undefined when every stored record is older. */
export async function segmentSeqAtOrAfter(
  dir: string,
  segs: readonly SegmentInfo[],
  t: number,
): Promise<number | undefined> {
  let lo = 0;
  let hi = segs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (segs[mid].count === 0 || segs[mid].lastTs < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo >= segs.length) return undefined;
  const s = segs[lo];
  return s.firstSeq + (await ordinalAtOrAfter(segFile(dir, s.firstSeq), s, t));
}
