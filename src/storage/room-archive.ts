// The archive of one room: append (synchronous for the caller, written in batches), the hot tail in memory,
// queries by time / id / sender over sealed segments and the tail, and pruning by whole segments. Opening the folder
// after a crash is room-recovery.ts, retractions are RetractionLog (retractions.ts), result pages and filters are
// archive-results.ts.
//
// Invariants that keep reads simple:
// - seqs are dense: records baseSeq..nextSeq-1 exist (segments hold consecutive runs of them);
// - every record not yet written (seq >= writtenSeq) is in the hot tail, so anything below the tail's first
//   seq can be read from files;
// - timestamps never decrease, so a time bound is a seq bound found by binary search.
import { FileHandle, open, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchiveConfig } from './config.js';
import { idFor, newSalt, seqOf } from './ids.js';
import { writeJson } from './json-document.js';
import { LegacyIds, isKeepableId } from './legacy-ids.js';
import { recoverRoomFiles } from './room-recovery.js';
import { StoredRecord, encodeMessage } from './record.js';
import { RetractionLog } from './retractions.js';
import { compileWith, msgBytes, pageInMemory, result, toMessage } from './archive-results.js';
import { fsyncDir, isENOENT } from './fs-util.js';
import { SegmentInfo, emptySegment, idxFile, noteRecord, ordinalAtOrAfter, readOrdinals, segFile, writeSidecar } from './segment.js';
import {
  AppendInput, ArchiveItemNotFoundError, ArchiveOverloadedError, ArchiveQuery, ArchiveResult, ArchivedMessage,
} from './types.js';

export type ArchiveLog = (level: 'info' | 'warn' | 'error', msg: string) => void;

/** What a room needs from the archive that owns it. */
export interface RoomContext {
  config: ArchiveConfig;
  expiryMs: number;
  spanMs: number;
  now(): number;
  log: ArchiveLog;
  /** Called on every append / history read: keeps the room in the hot-room LRU. */
  touched(room: RoomArchive): void;
  /** Bytes waiting to be written, across all rooms. */
  pendingDelta(delta: number): void;
  overloaded(): boolean;
}

interface Meta {
  v: 1;
  room: string;
  salt: string;
  created: number;
}

interface Pending {
  rec: StoredRecord;
  buf: Buffer;
  segFirst: number;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Records read or scanned per step when a `with` filter forces a scan. */
const SCAN_CHUNK = 512;
/** Drain at once rather than waiting for the batch delay when this much is queued in one room. */
const FLUSH_NOW_BYTES = 1024 * 1024;
/** Largest batch written in one go. */
const MAX_WRITE_BYTES = 8 * 1024 * 1024;
const EXPIRY_FLOOR_TTL_MS = 1000;

export class RoomArchive {
  private salt: Buffer = newSalt();
  private metaSaved = false;
  /** Sorted by firstSeq; the last one is the active segment (appended to). */
  private segments: SegmentInfo[] = [];
  private baseSeq = 0;
  private nextSeq = 0;
  private writtenSeq = 0;
  private lastTs = 0;
  private appendSegFirst = 0;
  private appendSegCount = 0;
  private appendSegSlice = 0;

  private pending: Pending[] = [];
  private pendingBytes = 0;
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private draining: Promise<void> | undefined;
  private fh: FileHandle | undefined;
  private fhSeg = -1;
  private backoffMs = 50;

  private tailArr: ArchivedMessage[] = [];
  private hotKeep: number;
  /** Estimated bytes of memory held by the hot tail (used as its lru-cache size). */
  tailBytes = 0;

  private retractions: RetractionLog;
  /** Ids kept from another server's archive (an import), when the room has any. */
  private legacy: LegacyIds | undefined;
  private expiryFloor = { at: -Infinity, seq: 0 };
  private closed = false;

  private constructor(readonly name: string, readonly dir: string, private readonly ctx: RoomContext) {
    this.hotKeep = ctx.config.hotTail;
    this.retractions = new RetractionLog(dir, name, ctx, () => this.ensureMeta());
  }

  /** Opens (or starts) a room's archive: reads sidecars, scans the active segment and cuts a torn tail. */
  static async load(name: string, dir: string, ctx: RoomContext): Promise<RoomArchive> {
    const r = new RoomArchive(name, dir, ctx);
    await r.loadFromDisk();
    return r;
  }

  /** A room with no files yet, usable at once (the caller knows its folder does not exist). */
  static createEmpty(name: string, dir: string, ctx: RoomContext): RoomArchive {
    return new RoomArchive(name, dir, ctx);
  }

  private async loadFromDisk(): Promise<void> {
    const found = await recoverRoomFiles(this.dir, this.name, this.ctx);
    if (found.salt) {
      this.salt = found.salt;
      this.metaSaved = true;
    }
    this.segments = found.segments;
    const warm = found.warm;

    const last = this.segments[this.segments.length - 1];
    this.nextSeq = last ? last.firstSeq + last.count : 0;
    this.baseSeq = this.segments.find((s) => s.count > 0)?.firstSeq ?? this.nextSeq;
    this.writtenSeq = this.nextSeq;
    for (let i = this.segments.length - 1; i >= 0; i--) {
      if (this.segments[i].count > 0) { this.lastTs = this.segments[i].lastTs; break; }
    }
    if (last) {
      this.appendSegFirst = last.firstSeq;
      this.appendSegCount = last.count;
      this.appendSegSlice = this.sliceOf(last.firstTs);
    } else {
      this.appendSegFirst = this.nextSeq;
    }

    await this.retractions.load(this.baseSeq);
    this.legacy = await LegacyIds.load(this.dir);

    // Warm the hot tail: the active segment's last records, topped up from the previous segment if short.
    const want = Math.min(this.ctx.config.hotTail, this.nextSeq - this.baseSeq);
    let tail = warm.map(toMessage);
    if (tail.length < want) {
      const firstWarm = tail.length ? tail[0].seq : this.nextSeq;
      const older = await this.readDisk(Math.max(this.baseSeq, this.nextSeq - want), firstWarm - 1);
      tail = older.concat(tail);
    }
    this.tailArr = tail.map((m) => this.overlay(m));
    this.tailBytes = this.tailArr.reduce((n, m) => n + msgBytes(m), 0);
  }

  private sliceOf(ts: number): number {
    return Number.isFinite(this.ctx.spanMs) ? Math.floor(ts / this.ctx.spanMs) : 0;
  }

  private get tailFloor(): number {
    return this.tailArr.length ? this.tailArr[0].seq : this.nextSeq;
  }

  // ---------------------------------------------------------------- appending

  /**
   * Archives a message. Synchronous: the returned record (with its id and timestamp) is in the hot tail at
   * once; it reaches the disk with the next batch (see whenDurable). Throws ArchiveOverloadedError when the
   * write queue is full and RangeError when a field is too large.
   */
  append(input: AppendInput): ArchivedMessage {
    if (this.closed) throw new Error(`archive of room ${this.name} is closed`);
    if (this.ctx.overloaded()) throw new ArchiveOverloadedError();
    let ts = Math.round(input.ts ?? this.ctx.now());
    if (!(ts >= this.lastTs)) ts = this.lastTs;
    const seq = this.nextSeq;
    let id = idFor(this.salt, seq);
    // An imported message keeps the id its clients know, unless that id is already taken here.
    if (input.keepId !== undefined && isKeepableId(input.keepId) && this.seqOfId(input.keepId) === null) {
      id = input.keepId;
      (this.legacy ??= new LegacyIds()).add(id, seq);
    }
    const rec: StoredRecord = { seq, ts, id, nick: input.nick, xml: input.xml };
    if (input.occupantId) rec.occupantId = input.occupantId;
    if (input.realJid) rec.realJid = input.realJid;
    const buf = encodeMessage(rec);

    const slice = this.sliceOf(ts);
    if (this.appendSegCount >= this.ctx.config.segmentMessages || (this.appendSegCount > 0 && slice !== this.appendSegSlice)) {
      this.appendSegFirst = seq;
      this.appendSegCount = 0;
    }
    if (this.appendSegCount === 0) this.appendSegSlice = slice;
    this.appendSegCount++;
    this.nextSeq = seq + 1;
    this.lastTs = ts;

    this.pending.push({ rec, buf, segFirst: this.appendSegFirst });
    this.pendingBytes += buf.length;
    this.ctx.pendingDelta(buf.length);

    // The stored record doubles as the tail entry (same fields): one object per message, not two.
    const msg: ArchivedMessage = rec;
    this.tailArr.push(msg);
    this.tailBytes += msgBytes(msg);
    this.hotKeep = this.ctx.config.hotTail;
    this.trimTail();
    this.ctx.touched(this);
    this.schedule();
    return msg;
  }

  /** append(), resolved once the record is written (and fsynced, unless the policy is `never`). */
  appendDurable(input: AppendInput): Promise<ArchivedMessage> {
    const m = this.append(input);
    return this.waitSeq(m.seq).then(() => m);
  }

  /** Resolves when the message with this id (default: everything appended so far) is on disk. */
  whenDurable(id?: string): Promise<void> {
    const seq = id === undefined ? this.nextSeq - 1 : this.seqOfId(id);
    if (seq === null) return Promise.reject(new ArchiveItemNotFoundError(id!));
    return this.waitSeq(seq);
  }

  /** Whether the message with this id was appended but is not on disk yet (synchronous). */
  isPending(id: string): boolean {
    const seq = this.seqOfId(id);
    return seq !== null && seq >= this.writtenSeq && seq < this.nextSeq;
  }

  private waitSeq(seq: number): Promise<void> {
    if (seq < this.writtenSeq) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  private schedule(): void {
    if (this.timer || this.draining) return;
    const { fsync, batchDelayMs } = this.ctx.config;
    if (fsync === 'always' || batchDelayMs === 0 || this.pendingBytes >= FLUSH_NOW_BYTES) {
      this.timer = setImmediate(() => this.kick());
    } else {
      this.timer = setTimeout(() => this.kick(), batchDelayMs);
    }
  }

  private kick(): void {
    this.timer = undefined;
    if (this.draining || !this.pending.length) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.pending.length && !this.closed) this.schedule();
    });
  }

  /** Writes everything pending; records that arrive meanwhile are written by the same loop (group commit). */
  private async drain(): Promise<void> {
    while (this.pending.length) {
      let take = 0;
      let bytes = 0;
      while (take < this.pending.length && (take === 0 || bytes + this.pending[take].buf.length <= MAX_WRITE_BYTES)) {
        bytes += this.pending[take++].buf.length;
      }
      const batch = this.pending.splice(0, take);
      let i = 0;
      try {
        await this.ensureMeta();
        while (i < batch.length) {
          const segFirst = batch[i].segFirst;
          let j = i;
          while (j < batch.length && batch[j].segFirst === segFirst) j++;
          const fh = await this.activeHandle(segFirst);
          const info = this.segments[this.segments.length - 1];
          const buf = j - i === 1 ? batch[i].buf : Buffer.concat(batch.slice(i, j).map((p) => p.buf));
          let done = 0;
          while (done < buf.length) done += (await fh.write(buf, done, buf.length - done)).bytesWritten;
          if (this.ctx.config.fsync !== 'never') await fh.datasync();
          let off = info.bytes;
          for (let k = i; k < j; k++) {
            noteRecord(info, batch[k].rec.ts, off, batch[k].buf.length);
            off += batch[k].buf.length;
          }
          this.writtenSeq = batch[j - 1].rec.seq + 1;
          this.pendingBytes -= buf.length;
          this.ctx.pendingDelta(-buf.length);
          i = j;
          this.settleWaiters();
          this.trimTail();
        }
        this.backoffMs = 50;
      } catch (err) {
        // Put back what was not written, undo a partial write, and retry later: a message is never dropped
        // while the process lives, and its durability promise resolves only once it really is on disk.
        this.pending = batch.slice(i).concat(this.pending);
        this.ctx.log('error', `archive ${this.name}: write failed (${(err as Error).message}); retrying in ${this.backoffMs} ms`);
        const info = this.segments[this.segments.length - 1];
        if (this.fh && info) await this.fh.truncate(info.bytes).catch(() => undefined);
        await this.closeFh();
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, this.backoffMs));
        this.backoffMs = Math.min(this.backoffMs * 2, 5000);
      }
    }
  }

  private async ensureMeta(): Promise<void> {
    if (this.metaSaved) return;
    const meta: Meta = { v: 1, room: this.name, salt: this.salt.toString('base64'), created: this.ctx.now() };
    await writeJson(join(this.dir, 'meta.json'), meta);
    this.metaSaved = true;
  }

  /** The file handle of segment `segFirst`, sealing the previous active segment when this starts a new one. */
  private async activeHandle(segFirst: number): Promise<FileHandle> {
    let info = this.segments[this.segments.length - 1];
    if (!info || info.firstSeq !== segFirst) {
      if (info) {
        if (this.fh && this.fhSeg === info.firstSeq && this.ctx.config.fsync !== 'never') await this.fh.datasync();
        await this.closeFh();
        if (info.count > 0) await writeSidecar(this.dir, info);
        else {
          this.segments.pop();
          await rm(segFile(this.dir, info.firstSeq), { force: true });
        }
      }
      info = emptySegment(segFirst);
      this.segments.push(info);
    }
    if (!this.fh || this.fhSeg !== info.firstSeq) {
      await this.closeFh();
      this.fh = await open(segFile(this.dir, info.firstSeq), 'a', 0o600);
      this.fhSeg = info.firstSeq;
      if (this.ctx.config.fsync !== 'never') await fsyncDir(this.dir);
    }
    return this.fh;
  }

  private async closeFh(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    this.fhSeg = -1;
    if (fh) await fh.close().catch(() => undefined);
  }

  private settleWaiters(): void {
    if (!this.waiters.length) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq < this.writtenSeq) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Resolves once everything appended so far is on disk. */
  async flush(): Promise<void> {
    while (this.pending.length || this.draining) {
      if (this.timer) {
        clearTimeout(this.timer as NodeJS.Timeout);
        clearImmediate(this.timer as NodeJS.Immediate);
        this.timer = undefined;
      }
      if (!this.draining) this.kick();
      await this.draining;
    }
    await this.retractions.settled();
  }

  // ---------------------------------------------------------------- hot tail

  private trimTail(): void {
    const excess = this.tailArr.length - this.hotKeep;
    // Trim in steps (not on every append) and never drop records that are not written yet.
    if (excess <= 0 || (excess < 64 && this.hotKeep > 0)) return;
    const drop = Math.min(excess, this.writtenSeq - this.tailFloor);
    if (drop <= 0) return;
    for (let i = 0; i < drop; i++) this.tailBytes -= msgBytes(this.tailArr[i]);
    this.tailArr = this.tailArr.slice(drop);
  }

  /** Releases the hot tail's memory (the room fell out of the hot-room LRU); unwritten records stay. */
  cool(): void {
    this.hotKeep = 0;
    this.trimTail();
  }

  /** Number of messages a reader may see, and the lowest visible seq, without touching disk. */
  private capFloor(): number {
    const cap = this.ctx.config.maxMessagesPerRoom;
    return cap > 0 ? Math.max(this.baseSeq, this.nextSeq - cap) : this.baseSeq;
  }

  private visibleFromTail(items: ArchivedMessage[]): ArchivedMessage[] {
    const floor = this.capFloor();
    const cutoff = this.ctx.now() - this.ctx.expiryMs;
    let i = 0;
    while (i < items.length && (items[i].seq < floor || items[i].ts < cutoff)) i++;
    return i ? items.slice(i) : items;
  }

  /**
   * The last n visible messages from memory only (history on join). Complete unless the room fell out of
   * the hot-room cache; history() is the variant that always is.
   */
  tail(n: number): ArchivedMessage[] {
    if (n <= 0) return [];
    return this.visibleFromTail(this.tailArr.slice(-n));
  }

  /** The last n visible messages: from memory when hot, otherwise read once from disk and kept hot. */
  async history(n: number): Promise<ArchivedMessage[]> {
    if (n <= 0) return [];
    this.hotKeep = this.ctx.config.hotTail;
    this.ctx.touched(this);
    const from = Math.max(this.capFloor(), this.nextSeq - n);
    const tf = this.tailFloor;
    if (from >= tf) return this.visibleFromTail(this.tailArr.slice(from - tf));
    const mem = this.tailArr.slice();
    const disk = await this.readDisk(from, tf - 1);
    // Re-warm: prepend what was read if the tail did not move meanwhile.
    if (this.tailFloor === tf && disk.length && disk[disk.length - 1].seq === tf - 1) {
      const room = Math.max(0, this.ctx.config.hotTail - this.tailArr.length);
      const add = disk.slice(Math.max(0, disk.length - room));
      if (add.length) {
        this.tailArr = add.concat(this.tailArr);
        for (const m of add) this.tailBytes += msgBytes(m);
        this.ctx.touched(this);
      }
    }
    return this.visibleFromTail(disk.concat(mem)).slice(-n);
  }

  // ---------------------------------------------------------------- reading

  private overlay(m: ArchivedMessage): ArchivedMessage {
    const t = this.retractions.get(m.seq);
    return t === undefined ? m : { ...m, xml: t, retracted: true };
  }

  /** Records [a, b] from segment files (callers guarantee b < tail floor, i.e. all written). */
  private async readDisk(a: number, b: number): Promise<ArchivedMessage[]> {
    const out: ArchivedMessage[] = [];
    if (b < a) return out;
    const segs = this.segments.slice();
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (segs[mid].firstSeq + segs[mid].count <= a) lo = mid + 1; else hi = mid;
    }
    for (let i = lo; i < segs.length; i++) {
      const s = segs[i];
      if (s.firstSeq > b) break;
      if (s.count === 0) continue;
      const fromOrd = Math.max(0, a - s.firstSeq);
      const toOrd = Math.min(s.count - 1, b - s.firstSeq);
      if (toOrd < fromOrd) continue;
      const recs = await readOrdinals(segFile(this.dir, s.firstSeq), s, fromOrd, toOrd);
      for (const r of recs) out.push(this.overlay(toMessage(r)));
    }
    return out;
  }

  /** Records [a, b] from the tail and the files. */
  private async readRange(a: number, b: number): Promise<ArchivedMessage[]> {
    if (b < a) return [];
    const tf = this.tailFloor;
    const mem = b >= tf ? this.tailArr.slice(Math.max(a, tf) - tf, b - tf + 1) : [];
    if (a >= tf) return mem;
    const disk = await this.readDisk(a, Math.min(b, tf - 1));
    return mem.length ? disk.concat(mem) : disk;
  }

  /** The first seq whose timestamp is >= t (nextSeq if none). */
  private async seqAtOrAfter(t: number): Promise<number> {
    if (this.nextSeq === this.baseSeq) return this.nextSeq;
    const tail = this.tailArr;
    if (tail.length && tail[0].ts < t) {
      let lo = 0;
      let hi = tail.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (tail[mid].ts < t) lo = mid + 1; else hi = mid;
      }
      return lo < tail.length ? tail[lo].seq : this.nextSeq;
    }
    const tf = this.tailFloor;
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (segs[mid].count === 0 || segs[mid].lastTs < t) lo = mid + 1; else hi = mid;
    }
    if (lo >= segs.length) return tf;
    const s = segs[lo];
    const ord = await ordinalAtOrAfter(segFile(this.dir, s.firstSeq), s, t);
    return Math.max(this.baseSeq, Math.min(s.firstSeq + ord, tf));
  }

  /** Lowest seq a reader may see now: after pruning, the per-room cap and the expiry. */
  private async visibleFloor(): Promise<number> {
    let f = this.capFloor();
    if (Number.isFinite(this.ctx.expiryMs)) {
      const now = this.ctx.now();
      if (now - this.expiryFloor.at > EXPIRY_FLOOR_TTL_MS || this.expiryFloor.seq < this.baseSeq) {
        this.expiryFloor = { at: now, seq: await this.seqAtOrAfter(now - this.ctx.expiryMs) };
      }
      f = Math.max(f, this.expiryFloor.seq);
    }
    return f;
  }

  /** The position of one of this room's ids: ours carry it, kept ones are looked up. */
  private seqOfId(id: string): number | null {
    return seqOf(this.salt, id) ?? this.legacy?.get(id) ?? null;
  }

  private resolveId(id: string, floor: number): number {
    const seq = this.seqOfId(id);
    if (seq === null || seq < floor || seq >= this.nextSeq) throw new ArchiveItemNotFoundError(id);
    return seq;
  }

  /** Whether an id is one of this room's messages still stored (synchronous; ignores expiry not yet pruned). */
  has(id: string): boolean {
    const seq = this.seqOfId(id);
    return seq !== null && seq >= this.capFloor() && seq < this.nextSeq;
  }

  /** A message by id if it is in the hot tail (synchronous, no disk). */
  peek(id: string): ArchivedMessage | undefined {
    const seq = this.seqOfId(id);
    const tf = this.tailFloor;
    if (seq === null || seq < tf || seq >= this.nextSeq) return undefined;
    return this.tailArr[seq - tf];
  }

  /** Checks that an id is a visible message of this room; returns its record or undefined. */
  async get(id: string): Promise<ArchivedMessage | undefined> {
    const floor = await this.visibleFloor();
    const seq = this.seqOfId(id);
    if (seq === null || seq < floor || seq >= this.nextSeq) return undefined;
    return (await this.readRange(seq, seq))[0];
  }

  /** First and last visible message (XEP-0313 archive metadata). */
  async bounds(): Promise<{ first?: ArchivedMessage; last?: ArchivedMessage }> {
    const floor = await this.visibleFloor();
    if (floor >= this.nextSeq) return {};
    const [first] = await this.readRange(floor, floor);
    const [last] = await this.readRange(this.nextSeq - 1, this.nextSeq - 1);
    return { first, last };
  }

  /** Number of visible messages. */
  async count(): Promise<number> {
    return Math.max(0, this.nextSeq - (await this.visibleFloor()));
  }

  /**
   * Runs an archive query; see ArchiveQuery for the semantics. Unknown ids in cursors, before-id, after-id
   * or ids throw ArchiveItemNotFoundError. `with` needs a scan (count and index are then left out).
   */
  async query(q: ArchiveQuery): Promise<ArchiveResult> {
    this.ctx.touched(this);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.runQuery(q);
      } catch (err) {
        // A segment pruned under our feet: the floor has moved, so try again.
        if (isENOENT(err) && attempt < 3) continue;
        throw err;
      }
    }
  }

  private async runQuery(q: ArchiveQuery): Promise<ArchiveResult> {
    const max = Math.max(0, Math.floor(q.max));
    const floor = await this.visibleFloor();
    let lo = floor;
    let hi = this.nextSeq - 1;
    if (q.start !== undefined) lo = Math.max(lo, await this.seqAtOrAfter(q.start));
    if (q.end !== undefined) hi = Math.min(hi, (await this.seqAtOrAfter(q.end + 1)) - 1);
    if (q.afterId !== undefined) lo = Math.max(lo, this.resolveId(q.afterId, floor) + 1);
    if (q.beforeId !== undefined) hi = Math.min(hi, this.resolveId(q.beforeId, floor) - 1);
    const after = q.after ? this.resolveId(q.after, floor) : undefined;
    const before = q.before ? this.resolveId(q.before, floor) : undefined;
    const backward = q.before !== undefined;
    const match = q.with ? compileWith(q.with) : undefined;

    if (q.ids) {
      const seqs = [...new Set(q.ids.map((id) => this.resolveId(id, floor)))].sort((a, b) => a - b);
      const items: ArchivedMessage[] = [];
      for (const s of seqs) {
        if (s < lo || s > hi) continue;
        const [m] = await this.readRange(s, s);
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
      const items = to >= from ? await this.readRange(from, to) : [];
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
        const chunk = await this.readRange(a, pos);
        for (let i = chunk.length - 1; i >= 0; i--) {
          if (!match(chunk[i])) continue;
          if (items.length === max) { more = true; break; }
          items.push(chunk[i]);
        }
        pos = a - 1;
      }
      items.reverse();
    } else {
      let pos = after !== undefined ? Math.max(lo, after + 1) : lo;
      while (pos <= hi && !more) {
        const b = Math.min(hi, pos + SCAN_CHUNK - 1);
        const chunk = await this.readRange(pos, b);
        for (const m of chunk) {
          if (!match(m)) continue;
          if (skip > 0) { skip--; continue; }
          if (items.length === max) { more = true; break; }
          items.push(m);
        }
        pos = b + 1;
      }
    }
    return result(items, !more, undefined, undefined);
  }

  // ---------------------------------------------------------------- retraction

  /**
   * Replaces an archived message by a tombstone (XEP-0424/0425): it keeps its id and timestamp, and the
   * tombstone is what history and MAM return from now on, also after a restart. False if the id is unknown.
   */
  retract(id: string, tombstoneXml: string): Promise<boolean> {
    const seq = this.seqOfId(id);
    if (seq === null || seq < this.baseSeq || seq >= this.nextSeq) return Promise.resolve(false);
    const tf = this.tailFloor;
    if (seq >= tf) {
      const old = this.tailArr[seq - tf];
      const m = { ...old, xml: tombstoneXml, retracted: true };
      this.tailBytes += msgBytes(m) - msgBytes(old);
      this.tailArr[seq - tf] = m;
    }
    return this.retractions.add(seq, tombstoneXml).then(() => true);
  }

  // ---------------------------------------------------------------- pruning and lifecycle

  /**
   * Deletes whole segments whose messages are all older than the expiry or beyond the per-room cap.
   * Messages in kept segments that are expired or over the cap are already invisible to readers.
   */
  async prune(now: number): Promise<{ segments: number; messages: number }> {
    if (this.closed) return { segments: 0, messages: 0 };
    const cutoff = now - this.ctx.expiryMs;
    const cap = this.ctx.config.maxMessagesPerRoom;
    const dropped: SegmentInfo[] = [];
    while (this.segments.length > 1) {
      const s = this.segments[0];
      const gone = s.count === 0 || s.lastTs < cutoff || (cap > 0 && this.nextSeq - (s.firstSeq + s.count) >= cap);
      if (!gone) break;
      dropped.push(this.segments.shift()!);
    }
    // The active segment itself can go once all of it expired and nothing is queued for it: a fresh empty
    // segment takes its place, and its name keeps the next seq so ids are never reused.
    const act = this.segments[this.segments.length - 1];
    let freshFile: string | undefined;
    if (this.segments.length === 1 && act.count > 0 && act.lastTs < cutoff && !this.pending.length && !this.draining &&
        this.writtenSeq === this.nextSeq) {
      dropped.push(act);
      this.segments = [emptySegment(this.nextSeq)];
      this.appendSegFirst = this.nextSeq;
      this.appendSegCount = 0;
      freshFile = segFile(this.dir, this.nextSeq);
    }
    if (!dropped.length) return { segments: 0, messages: 0 };
    this.baseSeq = this.segments.find((s) => s.count > 0)?.firstSeq ?? this.segments[0]?.firstSeq ?? this.nextSeq;
    if (this.tailArr.length && this.tailArr[0].seq < this.baseSeq) {
      const k = Math.min(this.tailArr.length, this.baseSeq - this.tailArr[0].seq);
      for (let i = 0; i < k; i++) this.tailBytes -= msgBytes(this.tailArr[i]);
      this.tailArr = this.tailArr.slice(k);
    }
    if (freshFile) {
      if (!this.draining) await this.closeFh();
      await (await open(freshFile, 'a', 0o600)).close();
      if (this.ctx.config.fsync !== 'never') await fsyncDir(this.dir);
    }
    let messages = 0;
    for (const s of dropped) {
      messages += s.count;
      await rm(idxFile(this.dir, s.firstSeq), { force: true });
      await unlink(segFile(this.dir, s.firstSeq)).catch((err) => { if (!isENOENT(err)) throw err; });
    }
    await this.retractions.compact(this.baseSeq);
    return { segments: dropped.length, messages };
  }

  /** Writes everything pending and releases the file handle. The object must not be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    await this.legacy?.save(this.dir);
    this.closed = true;
    await this.closeFh();
  }

  /** Stops without writing what is pending (the room is being deleted). */
  async abandon(): Promise<void> {
    this.closed = true;
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    const err = new Error(`archive of room ${this.name} was deleted`);
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
    this.ctx.pendingDelta(-this.pendingBytes);
    this.pendingBytes = 0;
    this.pending = [];
    await this.draining?.catch(() => undefined);
    await this.retractions.settled();
    await this.closeFh();
  }

  /** Figures for monitoring and the benchmark. */
  stats(): { messages: number; segments: number; tail: number; tailBytes: number; pendingBytes: number } {
    return {
      messages: this.nextSeq - this.baseSeq,
      segments: this.segments.length,
      tail: this.tailArr.length,
      tailBytes: this.tailBytes,
      pendingBytes: this.pendingBytes,
    };
  }
}
