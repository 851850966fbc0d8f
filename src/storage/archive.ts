// The message archive of all rooms, in files under `<dataDir>/archive/<room>/`: one RoomArchive per open
// room, hot tails kept in an lru-cache over rooms, a bounded write queue, and pruning on a timer.
//
// Usage by the MUC (see the module README in the final report):
//   const archive = new FileArchive(dataDir, config.archive);
//   const ra = await archive.open(roomLocalPart);       // when the room is loaded
//   const m = ra.append({ nick, occupantId, realJid, xml });  // or: await ra.appendDurable(...)
//   ra.tail(20) / await ra.history(20) / await ra.query({...}) / await ra.retract(id, tombstone)
//   await archive.closeRoom(name) when the room is unloaded; await archive.deleteRoom(name) when destroyed.
import { existsSync, renameSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { ARCHIVE_DEFAULTS, ArchiveConfig } from './config.js';
import { expiryMs } from './expiry.js';
import { ArchiveLog, RoomArchive, RoomContext } from './room-archive.js';
import type { SharedWakeups } from '../shared-wakeups.js';

export { RoomArchive };
export type { ArchiveLog };

export interface ArchiveOptions {
  /** Clock, for tests. */
  now?: () => number;
  log?: ArchiveLog;
  /**
   * Whether prune() also opens and prunes room folders nobody opened (default true). The MUC passes false:
   * every live room is open there, and a folder nobody opened belongs to a room that no longer exists, which
   * openSync() clears when that name is used again; opening it for pruning would race with that.
   */
  pruneUnopened?: boolean;
  /** Wake-ups coming anyway (the write-coalescing window's), at which writes go (shared-wakeups.ts). */
  wakeups?: SharedWakeups;
}

export interface PruneStats {
  rooms: number;
  segments: number;
  messages: number;
}

export interface ArchiveStats {
  openRooms: number;
  hotRooms: number;
  /** Estimated memory of all hot tails. */
  hotBytes: number;
  pendingBytes: number;
  /** Batches written to disk since start (one write each, synced unless fsync is 'never'). */
  writes: number;
}

/**
 * Room names become directory names: [a-z0-9_-] stay, every other byte is %XX, so no name can escape the
 * archive folder ('..', '/') or collide on case-insensitive filesystems.
 */
export function encodeRoomDir(room: string): string {
  let out = '';
  for (const b of Buffer.from(room, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[a-z0-9_-]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out || '%';
}

export function decodeRoomDir(dir: string): string {
  if (dir === '%') return '';
  return decodeURIComponent(dir);
}

export class FileArchive {
  readonly config: ArchiveConfig;
  readonly root: string;
  private readonly rooms = new Map<string, RoomArchive>();
  private readonly opening = new Map<string, Promise<RoomArchive>>();
  private readonly deleting = new Set<Promise<void>>();
  private readonly hot: LRUCache<string, RoomArchive>;
  private readonly ctx: RoomContext;
  private pendingTotal = 0;
  private writes = 0;
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<PruneStats> | undefined;
  private closed = false;
  private readonly pruneUnopened: boolean;

  constructor(dataDir: string, config: Partial<ArchiveConfig> = {}, opts: ArchiveOptions = {}) {
    this.config = { ...ARCHIVE_DEFAULTS, ...config };
    this.root = join(dataDir, 'archive');
    const now = opts.now ?? Date.now;
    this.pruneUnopened = opts.pruneUnopened ?? true;
    const log: ArchiveLog =
      opts.log ??
      ((level, msg) => {
        if (level !== 'info') console.warn(msg);
      });
    this.hot = new LRUCache<string, RoomArchive>({
      max: this.config.hotRooms,
      maxSize: this.config.hotBytes,
      sizeCalculation: (r) => Math.max(1, r.tailBytes),
      dispose: (r, _k, reason) => {
        if (reason === 'evict') r.cool();
      },
    });
    this.ctx = {
      config: this.config,
      expiryMs: expiryMs(this.config.expiry),
      spanMs: expiryMs(this.config.segmentSpan),
      now,
      log,
      touched: (r) => {
        this.hot.set(r.name, r);
      },
      pendingDelta: (d) => {
        this.pendingTotal += d;
      },
      overloaded: () => this.pendingTotal > this.config.maxPendingBytes,
      wrote: () => {
        this.writes++;
      },
      wakeups: opts.wakeups,
    };
  }

  private dirOf(room: string): string {
    return join(this.root, encodeRoomDir(room));
  }

  /** Opens a room's archive (idempotent; concurrent calls share one load). Creates nothing on disk yet. */
  open(room: string): Promise<RoomArchive> {
    if (this.closed) return Promise.reject(new Error('archive is closed'));
    const r = this.rooms.get(room);
    if (r) return Promise.resolve(r);
    let p = this.opening.get(room);
    if (!p) {
      p = RoomArchive.load(room, this.dirOf(room), this.ctx)
        .then((ra) => {
          this.rooms.set(room, ra);
          this.hot.set(room, ra);
          return ra;
        })
        .finally(() => this.opening.delete(room));
      this.opening.set(room, p);
    }
    return p;
  }

  /**
   * Synchronous open for callers that cannot wait (a room created at runtime receiving its first message).
   * One existsSync per room per process, never per message. A room already open is returned as is; a room
   * with no folder starts empty. A folder left by an earlier incarnation of a room that was not opened with
   * open() (a non-persistent room from before a restart, whose room no longer exists) is moved aside and
   * deleted, as destroying that room would have done. Throws if an asynchronous open is in progress.
   */
  openSync(room: string): RoomArchive {
    const r = this.rooms.get(room);
    if (r) return r;
    if (this.closed) throw new Error('archive is closed');
    if (this.opening.has(room)) throw new Error(`archive of room ${room} is being opened; await open() first`);
    const dir = this.dirOf(room);
    if (existsSync(dir)) {
      const trash = join(this.root, `.stale-${Date.now()}-${encodeRoomDir(room)}`);
      try {
        renameSync(dir, trash);
        void rm(trash, { recursive: true, force: true }).catch(() => undefined);
        this.ctx.log('warn', `archive: ${room} had a stale archive from a room that no longer exists; removed`);
      } catch (err) {
        // Gone meanwhile (a deletion in flight): nothing stale left to move aside.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const ra = RoomArchive.createEmpty(room, dir, this.ctx);
    this.rooms.set(room, ra);
    this.hot.set(room, ra);
    return ra;
  }

  /** The archive of a room already opened, if any. */
  get(room: string): RoomArchive | undefined {
    return this.rooms.get(room);
  }

  /** Flushes and forgets a room (its files stay). */
  async closeRoom(room: string): Promise<void> {
    await this.opening.get(room)?.catch(() => undefined);
    const r = this.rooms.get(room);
    if (!r) return;
    this.rooms.delete(room);
    this.hot.delete(room);
    await r.close();
  }

  /** Deletes a room's whole archive (room destroyed). */
  deleteRoom(room: string): Promise<void> {
    // Tracked so that close() waits for it: a deletion still walking the folder after shutdown races whoever
    // touches the data folder next (a restart, or a test removing it).
    const p = this.deleteRoomNow(room).finally(() => this.deleting.delete(p));
    this.deleting.add(p);
    return p;
  }

  private async deleteRoomNow(room: string): Promise<void> {
    await this.opening.get(room)?.catch(() => undefined);
    const r = this.rooms.get(room);
    this.rooms.delete(room);
    this.hot.delete(room);
    if (r) await r.abandon();
    // Retries cover a file that appears while the folder is walked (ENOTEMPTY), e.g. a write that was in flight.
    await rm(this.dirOf(room), { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }

  /** Names of all rooms that have an archive on disk. */
  async listRooms(): Promise<string[]> {
    try {
      return (await readdir(this.root, { withFileTypes: true }))
        .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
        .map((d) => decodeRoomDir(d.name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /**
   * Drops whole segments older than the expiry or beyond the per-room cap, in every room on disk (rooms
   * not open are opened for the duration). One run at a time.
   */
  prune(now = this.ctx.now()): Promise<PruneStats> {
    if (!this.pruning) {
      this.pruning = this.pruneAll(now).finally(() => {
        this.pruning = undefined;
      });
    }
    return this.pruning;
  }

  private async pruneAll(now: number): Promise<PruneStats> {
    const stats: PruneStats = { rooms: 0, segments: 0, messages: 0 };
    if (this.ctx.expiryMs === Infinity && this.config.maxMessagesPerRoom === 0) return stats;
    const names = this.pruneUnopened ? await this.listRooms() : [...this.rooms.keys()];
    for (const room of names) {
      if (this.closed) break;
      const wasOpen = this.rooms.has(room) || this.opening.has(room);
      if (!wasOpen && !this.pruneUnopened) continue; // closed or deleted since the list was taken
      try {
        const ra = await this.open(room);
        const r = await ra.prune(now);
        if (r.segments) stats.rooms++;
        stats.segments += r.segments;
        stats.messages += r.messages;
        if (!wasOpen) await this.closeRoom(room);
      } catch (err) {
        this.ctx.log('error', `archive: pruning room ${room} failed: ${(err as Error).message}`);
      }
    }
    return stats;
  }

  /** Runs prune() every intervalMs (default: config.pruneIntervalSeconds) until stopPruning()/close(). */
  startPruning(intervalMs = this.config.pruneIntervalSeconds * 1000): void {
    this.stopPruning();
    if (intervalMs <= 0) return;
    this.pruneTimer = setInterval(() => {
      this.prune().catch(() => undefined);
    }, intervalMs);
    this.pruneTimer.unref();
  }

  stopPruning(): void {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
  }

  /** Resolves once everything appended so far, in every room, is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.rooms.values()].map((r) => r.flush()));
  }

  /** Resolves once every room deletion started so far has finished (its folder is gone). */
  async deletionsSettled(): Promise<void> {
    await Promise.all([...this.deleting].map((p) => p.catch(() => undefined)));
  }

  /** Flushes and closes every room. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopPruning();
    await this.pruning?.catch(() => undefined);
    await this.deletionsSettled();
    await Promise.all([...this.opening.values()].map((p) => p.catch(() => undefined)));
    await Promise.all([...this.rooms.values()].map((r) => r.close()));
    this.rooms.clear();
    this.hot.clear();
  }

  /**
   * Creates the archive folder early, so a permission problem shows at startup rather than on first message.
   * Also reopens an archive after close() (a server stopped and started again in the same process).
   */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    this.closed = false;
  }

  stats(): ArchiveStats {
    return {
      openRooms: this.rooms.size,
      hotRooms: this.hot.size,
      hotBytes: this.hot.calculatedSize,
      pendingBytes: this.pendingTotal,
      writes: this.writes,
    };
  }
}
