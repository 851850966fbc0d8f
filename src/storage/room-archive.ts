// The archive of one room: append (synchronous for the caller, written in batches by SegmentWriter), the hot tail
// in memory (HotTail), queries (archive-query.ts) over the files (segment-reads.ts) and the tail, and pruning by
// whole segments (segment-prune.ts). Opening the folder after a crash is room-recovery.ts, retractions are
// RetractionLog (retractions.ts), result pages and filters are archive-results.ts.
//
// Invariants that keep reads simple:
// - seqs are dense: records baseSeq..nextSeq-1 exist (segments hold consecutive runs of them);
// - every record not yet written (seq >= writtenSeq) is in the hot tail, so anything below the tail's first
//   seq can be read from files;
// - timestamps never decrease, so a time bound is a seq bound found by binary search.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { idFor, newSalt, seqOf } from './ids.js';
import { writeJson } from './json-document.js';
import { LegacyIds, isKeepableId } from './legacy-ids.js';
import { recoverRoomFiles } from './room-recovery.js';
import { StoredRecord, encodeMessage } from './record.js';
import { RetractionLog } from './retractions.js';
import { toMessage } from './archive-results.js';
import { fsyncDir, isENOENT } from './fs-util.js';
import { SegmentInfo, emptySegment, segFile } from './segment.js';
import { HotTail } from './hot-tail.js';
import { SegmentWriter } from './segment-writer.js';
import { readSegmentRange, segmentSeqAtOrAfter } from './segment-reads.js';
import { runArchiveQuery, type ArchiveView } from './archive-query.js';
import { deleteSegmentFiles, takePrunableSegments } from './segment-prune.js';
import type { RoomContext } from './room-context.js';
import {
  AppendInput,
  ArchiveItemNotFoundError,
  ArchiveOverloadedError,
  ArchiveQuery,
  ArchiveResult,
  ArchivedMessage,
} from './types.js';

export type { ArchiveLog, RoomContext } from './room-context.js';

interface Meta {
  v: 1;
  room: string;
  salt: string;
  created: number;
}

const EXPIRY_FLOOR_TTL_MS = 1000;

export class RoomArchive implements ArchiveView {
  private salt: Buffer = newSalt();
  private metaSaved = false;
  /** Sorted by firstSeq; the last one is the active segment (appended to). Changed in place (the writer shares it). */
  readonly segments: SegmentInfo[] = [];
  private baseSeq = 0;
  nextSeq = 0;
  private lastTs = 0;
  private appendSegFirst = 0;
  private appendSegCount = 0;
  private appendSegSlice = 0;

  private readonly writer: SegmentWriter;
  private readonly hot: HotTail;
  private hotKeep: number;

  private retractions: RetractionLog;
  /** Ids kept from another server's archive (an import), when the room has any. */
  private legacy: LegacyIds | undefined;
  private expiryFloor = { at: -Infinity, seq: 0 };
  private closed = false;

  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly ctx: RoomContext,
  ) {
    this.hotKeep = ctx.config.hotTail;
    this.retractions = new RetractionLog(dir, name, ctx, () => this.ensureMeta());
    this.hot = new HotTail(() => this.nextSeq);
    this.writer = new SegmentWriter(this);
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

  /** Estimated bytes of memory held by the hot tail (used as its lru-cache size). */
  get tailBytes(): number {
    return this.hot.bytes;
  }

  private async loadFromDisk(): Promise<void> {
    const found = await recoverRoomFiles(this.dir, this.name, this.ctx);
    if (found.salt) {
      this.salt = found.salt;
      this.metaSaved = true;
    }
    this.segments.splice(0, this.segments.length, ...found.segments);
    const warm = found.warm;

    const last = this.segments[this.segments.length - 1];
    this.nextSeq = last ? last.firstSeq + last.count : 0;
    this.baseSeq = this.segments.find((s) => s.count > 0)?.firstSeq ?? this.nextSeq;
    this.writer.writtenSeq = this.nextSeq;
    for (let i = this.segments.length - 1; i >= 0; i--) {
      if (this.segments[i].count > 0) {
        this.lastTs = this.segments[i].lastTs;
        break;
      }
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
    this.hot.set(tail.map((m) => this.overlay(m)));
  }

  private sliceOf(ts: number): number {
    return Number.isFinite(this.ctx.spanMs) ? Math.floor(ts / this.ctx.spanMs) : 0;
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
    if (
      this.appendSegCount >= this.ctx.config.segmentMessages ||
      (this.appendSegCount > 0 && slice !== this.appendSegSlice)
    ) {
      this.appendSegFirst = seq;
      this.appendSegCount = 0;
    }
    if (this.appendSegCount === 0) this.appendSegSlice = slice;
    this.appendSegCount++;
    this.nextSeq = seq + 1;
    this.lastTs = ts;

    // The stored record doubles as the tail entry (same fields): one object per message, not two.
    const msg: ArchivedMessage = rec;
    this.hot.push(msg);
    this.hotKeep = this.ctx.config.hotTail;
    this.trimTail();
    this.ctx.touched(this);
    this.writer.enqueue(rec, buf, this.appendSegFirst);
    return msg;
  }

  /** append(), resolved once the record is written (and fsynced, unless the policy is `never`). */
  appendDurable(input: AppendInput): Promise<ArchivedMessage> {
    const m = this.append(input);
    return this.writer.waitSeq(m.seq).then(() => m);
  }

  /** Resolves when the message with this id (default: everything appended so far) is on disk. */
  whenDurable(id?: string): Promise<void> {
    const seq = id === undefined ? this.nextSeq - 1 : this.seqOfId(id);
    if (seq === null) return Promise.reject(new ArchiveItemNotFoundError(id!));
    return this.writer.waitSeq(seq);
  }

  /** Whether the message with this id was appended but is not on disk yet (synchronous). */
  isPending(id: string): boolean {
    const seq = this.seqOfId(id);
    return seq !== null && seq >= this.writer.writtenSeq && seq < this.nextSeq;
  }

  /** SegmentWriter: more records reached the disk, so the tail may let older ones go. */
  written(): void {
    this.trimTail();
  }

  async ensureMeta(): Promise<void> {
    if (this.metaSaved) return;
    const meta: Meta = { v: 1, room: this.name, salt: this.salt.toString('base64'), created: this.ctx.now() };
    await writeJson(join(this.dir, 'meta.json'), meta);
    this.metaSaved = true;
  }

  /** Resolves once everything appended so far is on disk. */
  async flush(): Promise<void> {
    await this.writer.flush();
    await this.retractions.settled();
  }

  // ---------------------------------------------------------------- hot tail

  private trimTail(): void {
    this.hot.trim(this.hotKeep, this.writer.writtenSeq);
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
    return this.visibleFromTail(this.hot.last(n));
  }

  /** The last n visible messages: from memory when hot, otherwise read once from disk and kept hot. */
  async history(n: number): Promise<ArchivedMessage[]> {
    if (n <= 0) return [];
    this.hotKeep = this.ctx.config.hotTail;
    this.ctx.touched(this);
    const from = Math.max(this.capFloor(), this.nextSeq - n);
    const tf = this.hot.floor;
    if (from >= tf) return this.visibleFromTail(this.hot.range(from, this.nextSeq - 1));
    const mem = this.hot.all().slice();
    const disk = await this.readDisk(from, tf - 1);
    // Re-warm: prepend what was read if the tail did not move meanwhile.
    if (this.hot.floor === tf && disk.length && disk[disk.length - 1].seq === tf - 1) {
      const room = Math.max(0, this.ctx.config.hotTail - this.hot.length);
      const add = disk.slice(Math.max(0, disk.length - room));
      if (add.length) {
        this.hot.prepend(add);
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
    const recs = await readSegmentRange(this.dir, this.segments, a, b);
    return recs.map((r) => this.overlay(toMessage(r)));
  }

  /** Records [a, b] from the tail and the files. */
  async readRange(a: number, b: number): Promise<ArchivedMessage[]> {
    if (b < a) return [];
    const tf = this.hot.floor;
    const mem = this.hot.range(a, b);
    if (a >= tf) return mem;
    const disk = await this.readDisk(a, Math.min(b, tf - 1));
    return mem.length ? disk.concat(mem) : disk;
  }

  /** The first seq whose timestamp is >= t (nextSeq if none). */
  async seqAtOrAfter(t: number): Promise<number> {
    if (this.nextSeq === this.baseSeq) return this.nextSeq;
    const inTail = this.hot.seqAtOrAfter(t);
    if (inTail !== undefined) return inTail;
    const tf = this.hot.floor;
    const onDisk = await segmentSeqAtOrAfter(this.dir, this.segments, t);
    if (onDisk === undefined) return tf;
    return Math.max(this.baseSeq, Math.min(onDisk, tf));
  }

  /** Lowest seq a reader may see now: after pruning, the per-room cap and the expiry. */
  async visibleFloor(): Promise<number> {
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

  resolveId(id: string, floor: number): number {
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
    if (seq === null || seq >= this.nextSeq) return undefined;
    return this.hot.at(seq);
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
        return await runArchiveQuery(this, q);
      } catch (err) {
        // A segment pruned under our feet: the floor has moved, so try again.
        if (isENOENT(err) && attempt < 3) continue;
        throw err;
      }
    }
  }

  // ---------------------------------------------------------------- retraction

  /**
   * Replaces an archived message by a tombstone (XEP-0424/0425): it keeps its id and timestamp, and the
   * tombstone is what history and MAM return from now on, also after a restart. False if the id is unknown.
   */
  retract(id: string, tombstoneXml: string): Promise<boolean> {
    const seq = this.seqOfId(id);
    if (seq === null || seq < this.baseSeq || seq >= this.nextSeq) return Promise.resolve(false);
    this.hot.replace(seq, (old) => ({ ...old, xml: tombstoneXml, retracted: true }));
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
    const dropped = takePrunableSegments(this.segments, this.nextSeq, cutoff, this.ctx.config.maxMessagesPerRoom);
    // The active segment itself can go once all of it expired and nothing is queued for it: a fresh empty
    // segment takes its place, and its name keeps the next seq so ids are never reused.
    const act = this.segments[this.segments.length - 1];
    let freshFile: string | undefined;
    if (this.segments.length === 1 && act.count > 0 && act.lastTs < cutoff && this.writer.idle(this.nextSeq)) {
      dropped.push(act);
      this.segments.splice(0, this.segments.length, emptySegment(this.nextSeq));
      this.appendSegFirst = this.nextSeq;
      this.appendSegCount = 0;
      freshFile = segFile(this.dir, this.nextSeq);
    }
    if (!dropped.length) return { segments: 0, messages: 0 };
    this.baseSeq = this.segments.find((s) => s.count > 0)?.firstSeq ?? this.segments[0]?.firstSeq ?? this.nextSeq;
    if (this.hot.length && this.hot.floor < this.baseSeq) this.hot.dropOldest(this.baseSeq - this.hot.floor);
    if (freshFile) {
      await this.writer.releaseIfIdle();
      await (await open(freshFile, 'a', 0o600)).close();
      if (this.ctx.config.fsync !== 'never') await fsyncDir(this.dir);
    }
    const messages = await deleteSegmentFiles(this.dir, dropped);
    await this.retractions.compact(this.baseSeq);
    return { segments: dropped.length, messages };
  }

  /** Writes everything pending and releases the file handle. The object must not be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    await this.legacy?.save(this.dir);
    this.closed = true;
    await this.writer.close();
  }

  /** Stops without writing what is pending (the room is being deleted). */
  async abandon(): Promise<void> {
    this.closed = true;
    await this.writer.abandon(new Error(`archive of room ${this.name} was deleted`));
    await this.retractions.settled();
    await this.writer.closeFile();
  }

  /** Figures for monitoring and the benchmark. */
  stats(): { messages: number; segments: number; tail: number; tailBytes: number; pendingBytes: number } {
    return {
      messages: this.nextSeq - this.baseSeq,
      segments: this.segments.length,
      tail: this.hot.length,
      tailBytes: this.hot.bytes,
      pendingBytes: this.writer.pendingBytes,
    };
  }
}
