// A room's write path: appended records wait in a queue and are written in batches (group commit) to the
// active segment, sealing it (sidecar index) when the next record starts a new one. A failed write is undone
// and retried with backoff: a record is never dropped while the process lives, and its durability promise
// resolves only once it really is on disk.
import { constants } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { FileHandle, open, rm } from 'node:fs/promises';
import type { StoredRecord } from './record.js';
import type { RoomContext } from './room-context.js';
import { fsyncDir } from './fs-util.js';
import { SegmentInfo, emptySegment, noteRecord, segFile, writeSidecar } from './segment.js';
import type { Ride } from '../shared-wakeups.js';

/** Drain at once rather than waiting for the batch delay when this much is queued in one room. */
const FLUSH_NOW_BYTES = 1024 * 1024;
/**
 * How far ahead a shared wake-up may be for a write to wait for it. The write-coalescing window (400 ms at its widest
 * by default) is what bounds the wait; this keeps a window configured far wider from holding durability back.
 */
const RIDE_WITHIN_MS = 1000;
/**
 * Bytes waiting past which a record no longer waits for a shared wake-up. At a live's pace a window gathers a few KB;
 * a flood (a client exempt from the rate limits) would have its reflections come back in one burst, larger than a
 * client's send buffer may hold.
 */
const RIDE_MAX_BYTES = 64 * 1024;
/** Largest batch written in one go. */
const MAX_WRITE_BYTES = 8 * 1024 * 1024;
/**
 * Append, and each write durable when it returns (as write + fdatasync); null where the platform has no O_DSYNC
 * (Windows), which then syncs after each write.
 */
const DSYNC_APPEND =
  constants.O_DSYNC === undefined
    ? null
    : constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC;

/** What the writer shares with its room. */
export interface WriterHost {
  readonly dir: string;
  readonly name: string;
  readonly ctx: RoomContext;
  /** The room's segments, sorted by firstSeq (the same array, changed in place); the last one is appended to. */
  readonly segments: SegmentInfo[];
  ensureMeta(): Promise<void>;
  /** Records below writtenSeq reached the disk. */
  written(): void;
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

export class SegmentWriter {
  /** Every record below this seq is on disk. */
  writtenSeq = 0;
  pendingBytes = 0;
  private pending: Pending[] = [];
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** Waiting for a wake-up that comes anyway (RoomContext.wakeups) instead of a timer of its own. */
  private ride: Ride | undefined;
  private draining: Promise<void> | undefined;
  private fh: FileHandle | undefined;
  private fhSeg = -1;
  private backoffMs = 50;
  private stopped = false;
  /** When the last batch was written (performance.now()): within batchDelayMs of it, records wait for the delay. */
  private drainedAt = -Infinity;

  constructor(private readonly host: WriterHost) {}

  /** Queues an encoded record for segment `segFirst`. */
  enqueue(rec: StoredRecord, buf: Buffer, segFirst: number): void {
    this.pending.push({ rec, buf, segFirst });
    this.pendingBytes += buf.length;
    this.host.ctx.pendingDelta(buf.length);
    this.schedule();
  }

  /** Resolves once the record with this seq is on disk. */
  waitSeq(seq: number): Promise<void> {
    if (seq < this.writtenSeq) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** Nothing queued or being written, and everything up to `nextSeq` is on disk. */
  idle(nextSeq: number): boolean {
    return !this.pending.length && !this.draining && this.writtenSeq === nextSeq;
  }

  /** Closes the active segment's handle unless a write is under way (the file is about to be replaced). */
  async releaseIfIdle(): Promise<void> {
    if (!this.draining) await this.closeFh();
  }

  /** Resolves once everything queued so far is on disk. */
  async flush(): Promise<void> {
    while (this.pending.length || this.draining) {
      this.clearTimer();
      if (!this.draining) this.kick();
      await this.draining;
    }
  }

  /** Writes everything queued, then releases the file handle. */
  async close(): Promise<void> {
    await this.flush();
    this.stopped = true;
    await this.closeFh();
  }

  /** Stops without writing what is queued; its waiters are rejected with `err`. */
  async abandon(err: Error): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
    this.host.ctx.pendingDelta(-this.pendingBytes);
    this.pendingBytes = 0;
    this.pending = [];
    await this.draining?.catch(() => undefined);
  }

  /** Releases the file handle (after abandon). */
  closeFile(): Promise<void> {
    return this.closeFh();
  }

  private clearTimer(): void {
    this.ride?.cancel();
    this.ride = undefined;
    if (!this.timer) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }

  private schedule(): void {
    // A flood rather than a live's pace: written as before, so that reflections do not come back in one burst.
    if (this.ride && this.pendingBytes >= RIDE_MAX_BYTES) this.clearTimer();
    if (this.timer || this.ride || this.draining) return;
    const { fsync, batchDelayMs } = this.host.ctx.config;
    // While a busy room's write-coalescing window is due, the write goes at its wake-up (shared-wakeups.ts): no
    // wake-up of its own when it reaches the disk, and the messages of one window in one write. Its senders get
    // their reflections when the room gets the messages.
    if (fsync !== 'always' && batchDelayMs > 0 && this.pendingBytes < RIDE_MAX_BYTES) {
      this.ride = this.host.ctx.wakeups?.ride(() => this.kick(), RIDE_WITHIN_MS);
      if (this.ride) return;
    }
    // A quiet archive writes at once: the delay groups the records of a busy room, and at a live's pace (a message
    // every 50 ms or more) it grouped none while its timer woke the process once more per message (~0.2 ms of CPU
    // on a small VM) and held the sender's reflection back by as long.
    const quiet = performance.now() - this.drainedAt >= batchDelayMs;
    if (fsync === 'always' || batchDelayMs === 0 || quiet || this.pendingBytes >= FLUSH_NOW_BYTES) {
      this.timer = setImmediate(() => this.kick());
    } else {
      this.timer = setTimeout(() => this.kick(), batchDelayMs);
    }
  }

  private kick(): void {
    this.timer = undefined;
    this.ride = undefined;
    if (this.draining || !this.pending.length) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      this.drainedAt = performance.now();
      if (this.pending.length && !this.stopped) this.schedule();
    });
  }

  /** Writes everything pending; records that arrive meanwhile are written by the same loop (group commit). */
  private async drain(): Promise<void> {
    const { ctx, segments } = this.host;
    while (this.pending.length) {
      let take = 0;
      let bytes = 0;
      while (take < this.pending.length && (take === 0 || bytes + this.pending[take].buf.length <= MAX_WRITE_BYTES)) {
        bytes += this.pending[take++].buf.length;
      }
      const batch = this.pending.splice(0, take);
      let i = 0;
      try {
        await this.host.ensureMeta();
        while (i < batch.length) {
          const segFirst = batch[i].segFirst;
          let j = i;
          while (j < batch.length && batch[j].segFirst === segFirst) j++;
          const fh = await this.activeHandle(segFirst);
          const info = segments[segments.length - 1];
          const buf = j - i === 1 ? batch[i].buf : Buffer.concat(batch.slice(i, j).map((p) => p.buf));
          let done = 0;
          // Durable when it returns, unless fsync is 'never' (O_DSYNC: see activeHandle).
          while (done < buf.length) done += (await fh.write(buf, done, buf.length - done)).bytesWritten;
          if (DSYNC_APPEND === null && ctx.config.fsync !== 'never') await fh.datasync();
          let off = info.bytes;
          for (let k = i; k < j; k++) {
            noteRecord(info, batch[k].rec.ts, off, batch[k].buf.length);
            off += batch[k].buf.length;
          }
          this.writtenSeq = batch[j - 1].rec.seq + 1;
          ctx.wrote();
          this.pendingBytes -= buf.length;
          ctx.pendingDelta(-buf.length);
          i = j;
          this.settleWaiters();
          this.host.written();
        }
        this.backoffMs = 50;
      } catch (err) {
        // Put back what was not written, undo a partial write, and retry later.
        this.pending = batch.slice(i).concat(this.pending);
        ctx.log(
          'error',
          `archive ${this.host.name}: write failed (${(err as Error).message}); retrying in ${this.backoffMs} ms`,
        );
        const info = segments[segments.length - 1];
        if (this.fh && info) await this.fh.truncate(info.bytes).catch(() => undefined);
        await this.closeFh();
        if (this.stopped) return;
        await new Promise((r) => setTimeout(r, this.backoffMs));
        this.backoffMs = Math.min(this.backoffMs * 2, 5000);
      }
    }
  }

  /** The file handle of segment `segFirst`, sealing the previous active segment when this starts a new one. */
  private async activeHandle(segFirst: number): Promise<FileHandle> {
    const { dir, ctx, segments } = this.host;
    let info = segments[segments.length - 1];
    if (!info || info.firstSeq !== segFirst) {
      if (info) {
        await this.closeFh();
        if (info.count > 0) await writeSidecar(dir, info);
        else {
          segments.pop();
          await rm(segFile(dir, info.firstSeq), { force: true });
        }
      }
      info = emptySegment(segFirst);
      segments.push(info);
    }
    if (!this.fh || this.fhSeg !== info.firstSeq) {
      await this.closeFh();
      // O_DSYNC: a write and its sync are one call, so one job of libuv's thread pool per batch instead of two (each
      // waking the main loop when done: at a live's pace each message is its own batch).
      const flags = ctx.config.fsync === 'never' || DSYNC_APPEND === null ? 'a' : DSYNC_APPEND;
      this.fh = await open(segFile(dir, info.firstSeq), flags, 0o600);
      this.fhSeg = info.firstSeq;
      if (ctx.config.fsync !== 'never') await fsyncDir(dir);
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
}
