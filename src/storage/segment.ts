// One segment = one append-only file of consecutive records of a room (`<firstSeq>.seg`), plus, once it is
// sealed, a sidecar `<firstSeq>.idx` (atomic JSON) holding its summary and a sparse index: the time and byte
// offset of every SPARSE_K-th record. Opening a room reads sidecars only; just the active (last) segment is
// scanned, which is also where a torn tail can be and gets cut off.
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readJson, writeJson } from './json-document.js';
import { HEADER, StoredRecord, decodeMessage, peekSeqTs, validRecordLength } from './record.js';

export const SPARSE_K = 32;

export interface SegmentInfo {
  firstSeq: number;
  /** Records written to the file (appends not yet written live only in the room's hot tail). */
  count: number;
  /** File length covered by those records. */
  bytes: number;
  firstTs: number;
  lastTs: number;
  /** ts and byte offset of records 0, K, 2K, ... */
  sparseTs: number[];
  sparseOff: number[];
}

interface SidecarV1 extends SegmentInfo {
  v: 1;
  k: number;
}

export function segFile(dir: string, firstSeq: number): string {
  return join(dir, String(firstSeq).padStart(13, '0') + '.seg');
}

export function idxFile(dir: string, firstSeq: number): string {
  return join(dir, String(firstSeq).padStart(13, '0') + '.idx');
}

export function parseSegName(name: string): { firstSeq: number; kind: 'seg' | 'idx' } | null {
  const m = /^(\d{13})\.(seg|idx)$/.exec(name);
  return m ? { firstSeq: Number(m[1]), kind: m[2] as 'seg' | 'idx' } : null;
}

export function emptySegment(firstSeq: number): SegmentInfo {
  return { firstSeq, count: 0, bytes: 0, firstTs: 0, lastTs: 0, sparseTs: [], sparseOff: [] };
}

/** Records the position of a record just written at `off` in the summary. */
export function noteRecord(info: SegmentInfo, ts: number, off: number, len: number): void {
  if (info.count % SPARSE_K === 0) {
    info.sparseTs.push(ts);
    info.sparseOff.push(off);
  }
  if (info.count === 0) info.firstTs = ts;
  info.lastTs = ts;
  info.count++;
  info.bytes = off + len;
}

export interface ScanResult {
  info: SegmentInfo;
  /** Bytes in the file; more than info.bytes means a torn or corrupt tail that must be cut off. */
  fileBytes: number;
  /** The last `keep` records, decoded (to warm the hot tail without another read). */
  last: StoredRecord[];
}

/** Reads a whole segment file, validating every record, and stops at the first one that is not intact. */
export async function scanSegment(file: string, firstSeq: number, keep: number): Promise<ScanResult> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { info: emptySegment(firstSeq), fileBytes: 0, last: [] };
    throw err;
  }
  const info = emptySegment(firstSeq);
  const offsets: number[] = [];
  let off = 0;
  while (off < buf.length) {
    const len = validRecordLength(buf, off);
    if (len === 0) break;
    if (buf[off + HEADER] !== 1) break;
    const [seq, ts] = peekSeqTs(buf, off);
    // Records are consecutive; anything else means the rest of the file is not ours to trust.
    if (seq !== firstSeq + info.count) break;
    noteRecord(info, ts, off, len);
    if (keep > 0) {
      offsets.push(off);
      if (offsets.length > keep * 2) offsets.splice(0, offsets.length - keep);
    }
    off += len;
  }
  const last = offsets.slice(-keep).map((o) => decodeMessage(buf, o));
  return { info, fileBytes: buf.length, last };
}

export async function readSidecar(dir: string, firstSeq: number): Promise<SegmentInfo | undefined> {
  try {
    const s = await readJson<SidecarV1>(idxFile(dir, firstSeq));
    if (!s || s.v !== 1 || s.k !== SPARSE_K || s.firstSeq !== firstSeq || !Array.isArray(s.sparseTs)) return undefined;
    if (s.sparseTs.length !== Math.ceil(s.count / SPARSE_K) || s.sparseOff.length !== s.sparseTs.length)
      return undefined;
    return {
      firstSeq,
      count: s.count,
      bytes: s.bytes,
      firstTs: s.firstTs,
      lastTs: s.lastTs,
      sparseTs: s.sparseTs,
      sparseOff: s.sparseOff,
    };
  } catch {
    return undefined; // unreadable sidecar: the caller rebuilds it by scanning
  }
}

export function writeSidecar(dir: string, info: SegmentInfo): Promise<void> {
  const s: SidecarV1 = { v: 1, k: SPARSE_K, ...info };
  return writeJson(idxFile(dir, info.firstSeq), s);
}

/**
 * Decodes records with ordinals [fromOrd, toOrd] (inclusive) of a segment, reading only the sparse blocks
 * that hold them: one open, one read.
 */
export async function readOrdinals(
  file: string,
  info: SegmentInfo,
  fromOrd: number,
  toOrd: number,
): Promise<StoredRecord[]> {
  if (toOrd < fromOrd) return [];
  const b0 = Math.floor(fromOrd / SPARSE_K);
  const b1 = Math.floor(toOrd / SPARSE_K);
  const start = info.sparseOff[b0];
  const end = b1 + 1 < info.sparseOff.length ? info.sparseOff[b1 + 1] : info.bytes;
  const buf = Buffer.allocUnsafe(end - start);
  const fh = await open(file, 'r');
  try {
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, start + got);
      if (bytesRead === 0) throw new Error(`archive segment ${file} is shorter than its index`);
      got += bytesRead;
    }
  } finally {
    await fh.close();
  }
  const out: StoredRecord[] = [];
  let off = 0;
  let ord = b0 * SPARSE_K;
  while (off < buf.length && ord <= toOrd) {
    const len = buf.readUInt32LE(off) + HEADER;
    if (ord >= fromOrd) out.push(decodeMessage(buf, off));
    off += len;
    ord++;
  }
  return out;
}

/** Ordinal of the first record with ts >= t in a segment (count if none); reads at most one block. */
export async function ordinalAtOrAfter(file: string, info: SegmentInfo, t: number): Promise<number> {
  if (info.count === 0 || info.lastTs < t) return info.count;
  if (info.firstTs >= t) return 0;
  // Last block whose first record is before t: the answer is inside it or is the next block's first record.
  let lo = 0;
  let hi = info.sparseTs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (info.sparseTs[mid] < t) lo = mid;
    else hi = mid - 1;
  }
  const fromOrd = lo * SPARSE_K;
  const toOrd = Math.min(info.count - 1, fromOrd + SPARSE_K - 1);
  const recs = await readOrdinals(file, info, fromOrd, toOrd);
  for (let i = 0; i < recs.length; i++) if (recs[i].ts >= t) return fromOrd + i;
  return toOrd + 1;
}
