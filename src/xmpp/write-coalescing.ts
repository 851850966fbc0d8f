// Write coalescing: a connection's frames are held and leave together in one syscall.
//
// Every write is held at least until the end of the current tick, so the frames one fan-out loop writes to a socket
// leave together. A write the caller marks deferrable (a room's fan-out) on a busy socket — one that flushed fan-out
// frames within the last `windowMs` — is held longer, until that window ends (the coalescer's one shared timer): in
// a busy room the messages of several ticks then share one syscall per socket. The first fan-out frame after a quiet
// spell, and any write that is not deferrable (an IQ answer, a 1:1 message, a stream-management ack), leaves at the
// end of its tick and takes whatever was held with it, so order is kept and nothing waits behind a fan-out. Held
// bytes count in the connection's buffered bytes, so send-buffer limits keep counting them; past `maxHeldBytes` a
// connection is released at the end of the tick.
//
// The window widens with load: each write is a syscall (~10 µs on a small VM, the largest part of a delivery's cost),
// so when the fan-out writes of all connections together pass `writesPerSecond`, the window grows (up to
// `maxWindowMs`) until they fit: at a steady message rate N busy connections write N / window times a second, so the
// window that fits is N / writesPerSecond. When writes fall below the budget (a quieter room, viewers gone) it
// narrows back toward `windowMs`. A busy room trades latency (up to the window) for CPU; a quiet one keeps both low.
//
// The window holds nothing while the server fans out fewer than `minFanoutPerSecond` frames a second (all
// connections together): it saves a write per held frame, so a server whose rooms are small saves a few hundred
// writes a second (a small share of a core) and would still delay every one of their messages by up to a window.
// Frames are counted whether or not they are held, so holding them does not change the count that decides it.
//
// Two ways to hold: CorkedWrites corks the socket (its own buffer holds the writes: TCP, S2S), HeldFrames keeps the
// frames in its own list and writes them as one buffer at release (WebSocket: no Writable bookkeeping per frame). A
// BOSH session holds what it would answer its held request with (ResponsePacing in src/bosh/session.ts), a response
// counting as several writes in the budget.
import type { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { frameHeaderSize, runBytes, writeFrameHeader } from './ws-frame.js';
import { DEFAULT_WRITES_PER_SECOND } from '../config.js';
import type { SharedWakeups } from '../shared-wakeups.js';

export interface CoalescingOptions {
  /** How long a busy socket's fan-out frames may be held, in ms; 0 holds them only until the end of the tick. */
  windowMs: number;
  /** Held bytes on one socket past which it is released at the end of the tick. */
  maxHeldBytes: number;
  /** The widest the window grows under load, in ms (default: windowMs, a fixed window). */
  maxWindowMs?: number;
  /** Fan-out writes a second (all connections together) past which the window widens. */
  writesPerSecond?: number;
  /**
   * Fan-out frames a second (all connections together) from which the window holds anything; below, frames leave at
   * the end of their tick (default 0: the window always holds).
   */
  minFanoutPerSecond?: number;
  /**
   * Who ends a tick: process.nextTick (default), or the owner calling endTick() (the WebSocket edge process, whose
   * "tick" is one batch from the main process, however many pipe reads carry it).
   */
  tickEndsBy?: 'next-tick' | 'caller';
  /** Work that may ride the window's wake-ups (shared-wakeups.ts: a room archive's writes). */
  wakeups?: SharedWakeups;
}

/** How often the window is re-fitted to the writes counted since the last fit. */
const FIT_EVERY_MS = 500;
/** How often the fan-out rate is measured against minFanoutPerSecond (a storm starts being held within this). */
const RATE_EVERY_MS = 100;
/**
 * How long the fan-out must stay light before the window stops holding: a storm has lulls (its viewers waiting on
 * their round trips) that are not its end, and each switch back on lets a measure's worth of frames leave unheld.
 */
const LIGHT_FOR_MS = 1000;

const IDLE = 0;
/** Held, released by the end-of-tick callback. */
const TICK = 1;
/** Held, released by the shared window timer (or earlier). */
const WINDOW = 2;

/** One per server: the shared end-of-tick callback and the one window timer for every held connection. */
export class WriteCoalescer {
  private tick: HeldWrites[] = [];
  private window: HeldWrites[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  /** Deadlines this close together are released by one timer callback. */
  private slackMs: number;
  /** The current window (ms): `options.windowMs` when quiet, up to `maxWindowMs` under load. */
  windowMs: number;
  private readonly maxWindowMs: number;
  private readonly writesPerSecond: number;
  /** Fan-out writes (releases carrying room frames) since `fitAt`. */
  private writes = 0;
  private fitAt = performance.now();
  /** Fan-out frames (held or not) since `rateAt`. */
  private frames = 0;
  private rateAt = performance.now();
  private readonly minFanoutPerSecond: number;
  /** Frames within one measure that reach minFanoutPerSecond. */
  private readonly framesToHold: number;
  /** When the fan-out last reached minFanoutPerSecond (performance.now()). */
  private heavyAt = -Infinity;
  /** The fan-out is heavy enough for the window to hold (always, without minFanoutPerSecond). */
  private heavy: boolean;
  private readonly autoTick: boolean;
  private readonly releaseTick = (): void => {
    const list = this.tick;
    this.tick = [];
    for (const c of list) c.release();
  };
  private readonly releaseWindow = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    // What rode this wake-up (an archive's write) starts first: the held frames leave in the check phase right after,
    // once its promise chain has handed the write to the thread pool, and their writes cover the disk's time.
    if (this.options.wakeups?.wake()) setImmediate(this.releaseDue);
    else this.releaseDue();
  };
  private readonly releaseDue = (): void => {
    const list = this.window;
    this.window = [];
    const due = performance.now() + this.slackMs;
    let next = Infinity;
    for (const c of list) {
      c.queued = false;
      if (!c.heldForWindow) continue; // released or moved to the end of a tick since
      if (c.deadline <= due) c.release();
      else {
        c.queued = true;
        this.window.push(c);
        if (c.deadline < next) next = c.deadline;
      }
    }
    if (next !== Infinity) this.arm(next);
  };

  constructor(readonly options: CoalescingOptions) {
    this.windowMs = options.windowMs;
    this.slackMs = options.windowMs / 8;
    this.maxWindowMs = Math.max(options.windowMs, options.maxWindowMs ?? options.windowMs);
    this.writesPerSecond = options.writesPerSecond ?? DEFAULT_WRITES_PER_SECOND;
    this.minFanoutPerSecond = options.minFanoutPerSecond ?? 0;
    this.framesToHold = (this.minFanoutPerSecond * RATE_EVERY_MS) / 1000;
    this.heavy = this.minFanoutPerSecond <= 0;
    this.autoTick = options.tickEndsBy !== 'caller';
    options.wakeups?.setOwner(() => (this.timer ? this.timerAt : Infinity));
  }

  /** Whether the window holds frames now (see minFanoutPerSecond). */
  get windowing(): boolean {
    return this.heavy;
  }

  /**
   * A fan-out frame is about to be written (counted for minFanoutPerSecond). A burst (a join storm, a crowd leaving)
   * turns the window on as soon as its frames pass the bound's share of a measure, not at the measure's end.
   */
  fanOutFrame(): void {
    if (++this.frames >= this.framesToHold && !this.heavy) {
      this.heavy = true;
      this.heavyAt = performance.now();
    }
  }

  /** Releases everything held for the end of the tick (called by the owner when `tickEndsBy` is 'caller'). */
  endTick(): void {
    this.releaseTick();
  }

  /**
   * A release carried fan-out frames. `now`: performance.now(); `cost`: what it costs in socket writes (a BOSH response
   * costs more than one).
   */
  wrote(now: number, cost = 1): void {
    this.writes += cost;
    this.maybeFit(now);
  }

  /** Re-fits the window when due (also called as fan-out frames arrive, so a quiet spell narrows it). */
  maybeFit(now: number): void {
    if (now - this.rateAt >= RATE_EVERY_MS) this.measureRate(now);
    if (now - this.fitAt >= FIT_EVERY_MS) this.fit(now);
  }

  /**
   * Whether the window may hold, from the fan-out frames a second since the last measure: on from
   * minFanoutPerSecond (or as soon as a burst gets there, fanOutFrame), off again only below half of it and once
   * LIGHT_FOR_MS passed since it was last reached, so neither a rate near the bound nor a storm's lulls switch it.
   */
  private measureRate(now: number): void {
    const rate = (this.frames * 1000) / (now - this.rateAt);
    this.frames = 0;
    this.rateAt = now;
    if (this.minFanoutPerSecond <= 0) return;
    if (rate >= this.minFanoutPerSecond) {
      this.heavy = true;
      this.heavyAt = now;
    } else if (rate < this.minFanoutPerSecond / 2 && now - this.heavyAt >= LIGHT_FOR_MS) this.heavy = false;
  }

  /**
   * Busy connections each write about once per window: at the current window W, `rate` writes a second means about
   * rate × W of them, and the window that brings their writes to the budget is that count / budget.
   */
  private fit(now: number): void {
    const rate = (this.writes * 1000) / (now - this.fitAt);
    this.writes = 0;
    this.fitAt = now;
    const base = this.options.windowMs;
    if (base <= 0 || this.maxWindowMs <= base) return;
    const w = (this.windowMs * rate) / this.writesPerSecond;
    this.windowMs = w < base ? base : w > this.maxWindowMs ? this.maxWindowMs : w;
    this.slackMs = this.windowMs / 8;
  }

  holdForTick(c: HeldWrites): void {
    if (this.tick.push(c) === 1 && this.autoTick) process.nextTick(this.releaseTick);
  }

  /** Holds `c` until its deadline (a socket a fan-out released shares its deadline with the rest of the room). */
  holdForWindow(c: HeldWrites): void {
    if (!c.queued) {
      c.queued = true;
      this.window.push(c);
    }
    this.arm(c.deadline);
  }

  private arm(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.releaseWindow, Math.max(0, at - performance.now()));
    // Open sockets keep the process alive; the timer alone should not.
    this.timer.unref();
  }
}

/** Holds only until the end of the tick: for streams that must not wait (S2S) and for tests. */
export const tickOnly = new WriteCoalescer({ windowMs: 0, maxHeldBytes: Infinity });

/**
 * One connection's held writes: when they leave. An entry may sit in the coalescer's lists after it was already
 * released (flush, promotion to the end of the tick); releasing an idle entry does nothing, so stale entries are
 * harmless.
 */
export abstract class HeldWrites {
  private state = IDLE;
  /** performance.now() of the last release that carried fan-out frames: within the window, the socket is busy. */
  private lastFlush = -Infinity;
  /** A deferrable frame was written since the last release (login answers alone do not make a socket busy). */
  private fanOut = false;
  /** When a window hold ends (performance.now()). */
  deadline = 0;
  /** In the coalescer's window list (kept there by it). */
  queued = false;

  get heldForWindow(): boolean {
    return this.state === WINDOW;
  }

  /** Something is held, for the end of the tick or for the window. */
  get holding(): boolean {
    return this.state !== IDLE;
  }

  /**
   * `writeCost`: what one release costs, in socket writes, for the coalescer's write budget (1 for a socket write; a
   * BOSH response, with the request it brings back, costs several).
   */
  constructor(
    private readonly coalescer: WriteCoalescer = tickOnly,
    private readonly writeCost = 1,
  ) {}

  /** Bytes held so far (checked against maxHeldBytes before each write). */
  protected abstract heldBytes(): number;
  /** Writes out what is held (the release). */
  protected abstract writeOut(): void;

  /**
   * Decides how long what is about to be written waits. Returns true when nothing was held before (the caller starts
   * holding). `deferrable`: the frame may wait for the window (a fan-out delivery).
   */
  protected schedule(deferrable: boolean): boolean {
    const co = this.coalescer;
    if (deferrable) {
      this.fanOut = true;
      co.fanOutFrame();
    }
    if (this.state === IDLE) {
      if (deferrable && co.options.windowMs > 0 && this.busy(co)) {
        // Busy: at most one flush per window; the frames wait for the end of the window that began at the last one.
        this.state = WINDOW;
        this.deadline = this.lastFlush + co.windowMs;
        co.holdForWindow(this);
      } else {
        this.state = TICK;
        co.holdForTick(this);
      }
      return true;
    }
    // Something that must not wait, or enough bytes for one syscall: everything held leaves at the end of the tick.
    if (this.state === WINDOW && (!deferrable || this.heldBytes() >= co.options.maxHeldBytes)) {
      this.state = TICK;
      co.holdForTick(this);
    }
    return false;
  }

  /**
   * Fan-out frames left within the current window, and the server fans out enough for the window to hold (the
   * coalescer's window is re-fitted on the way).
   */
  private busy(co: WriteCoalescer): boolean {
    const now = performance.now();
    co.maybeFit(now);
    return co.windowing && now - this.lastFlush < co.windowMs;
  }

  /** Writes what is held now (before a close, a TLS upgrade or a stream error, so they follow the held frames). */
  flush(): void {
    this.release();
  }

  /** Writes out what is held, if anything (from the coalescer's lists or flush). */
  release(): void {
    if (this.state === IDLE) return;
    this.state = IDLE;
    if (this.fanOut) {
      this.lastFlush = performance.now();
      this.coalescer.wrote(this.lastFlush, this.writeCost);
    }
    this.fanOut = false;
    this.writeOut();
  }
}

/** Held writes kept in the socket's own buffer: the socket is corked while anything is held. */
export class CorkedWrites extends HeldWrites {
  private socket: Writable | null = null;

  /** Call before each write to `socket`. `deferrable`: the frame may wait for the window (a fan-out delivery). */
  hold(socket: Writable, deferrable = false): void {
    if (this.socket === null) {
      this.socket = socket;
      socket.cork();
    }
    this.schedule(deferrable);
  }

  protected heldBytes(): number {
    return this.socket?.writableLength ?? 0;
  }

  protected writeOut(): void {
    const s = this.socket;
    this.socket = null;
    s?.uncork();
  }
}

// The release buffer a socket took whole last time (written straight to the kernel, nothing of it kept): the next
// release of any connection is built in it. Without it every release was a new buffer freed only by a later
// garbage collection; in a join storm tens of MB of them waited for it, and malloc kept the pages afterwards.
let spare: Buffer | undefined;
/** Releases larger than this get a buffer of their own, as a socket that keeps one keeps all of it. */
const SPARE_MAX = 64 * 1024;

/** This process's releases, and how many of them were built in the spare (for the WebSocket edge's report). */
export const releaseCounts = { releases: 0, reused: 0 };

/** A buffer of at least n bytes (n ≤ SPARE_MAX) that no one else holds, the spare if it is large enough. */
function takeSpare(n: number): Buffer {
  const s = spare;
  spare = undefined;
  if (s !== undefined && s.length >= n) {
    releaseCounts.reused++;
    return s;
  }
  let size = 4096;
  while (size < n) size *= 2;
  return Buffer.allocUnsafeSlow(size);
}

/** A held frame's parts: payload bytes, payload text, or the payload's length (its header, written at release). */
type PartList = Array<Buffer | string | number>;

// Part lists taken back after their release, for the next connection that holds frames. A joiner's list grows to
// hundreds of parts (its roster, history and archive page), and a fan-out takes one on every viewer's connection at
// once: made and grown anew per release they were ~8% of a join storm's allocations, and kept per connection they
// would be memory per idle viewer. The pool keeps what the releases give back, up to POOL_MAX_PARTS slots in all
// (128 KB); a list past POOLED_MAX_PARTS (a roster of thousands) is left to the collector.
const partLists: PartList[] = [];
let pooledParts = 0;
const POOL_MAX_PARTS = 16_384;
const POOLED_MAX_PARTS = 2048;

function borrowParts(): PartList {
  const list = partLists.pop();
  if (list === undefined) return [];
  pooledParts -= list.length;
  return list;
}

function returnParts(list: PartList): void {
  const n = list.length;
  if (n > POOLED_MAX_PARTS || pooledParts + n > POOL_MAX_PARTS) return;
  pooledParts += n;
  partLists.push(list);
}

/** Where a connection's held frames go. */
export interface HeldFramesSink {
  /** Writes the released bytes (one call per release). */
  writeHeld(bytes: Buffer): void;
  /**
   * True when the writer holds none of the bytes it was given: asked before a release (a write now goes straight
   * to the kernel) and after it (it did, whole). Both true: the release's buffer is built again for the next one.
   */
  heldDrained?(): boolean;
}

/**
 * WebSocket text frames held in a list of their parts (no Writable bookkeeping and no buffer per frame), written as
 * one buffer at release. A part is payload bytes (a Buffer), payload text (a string, encoded to UTF-8 straight into
 * the release buffer: no buffer of its own per frame) or, before each frame's payload, the payload's length in bytes
 * (its header is written at release). The list is borrowed from a shared pool while anything is held.
 */
export class HeldFrames extends HeldWrites {
  private parts: PartList | null = null;
  /** Parts in use at the start of `parts` (a pooled list may be longer: its tail holds zeros). */
  private count = 0;
  /** Bytes held, frame headers included. */
  bytes = 0;

  constructor(
    coalescer: WriteCoalescer | undefined,
    /** The connection's writer (an object rather than two closures: ~160 B less per connection). */
    private readonly sink: HeldFramesSink,
  ) {
    super(coalescer);
  }

  /** Holds one text frame whose payload is `a`, `b` and `c` one after the other (`a` and `c` as bytes or as text). */
  frame3(a: Buffer | string, b: Buffer, c: Buffer | string, deferrable: boolean): void {
    this.schedule(deferrable);
    const len = runBytes(a) + b.length + runBytes(c);
    const parts = (this.parts ??= borrowParts());
    let n = this.count;
    parts[n++] = len;
    parts[n++] = a;
    parts[n++] = b;
    parts[n++] = c;
    this.count = n;
    this.bytes += frameHeaderSize(len) + len;
  }

  /** Holds one text frame, its payload as bytes or as text (measured now, encoded at release). */
  frame(payload: Buffer | string, deferrable: boolean): void {
    this.schedule(deferrable);
    const len = runBytes(payload);
    const parts = (this.parts ??= borrowParts());
    let n = this.count;
    parts[n++] = len;
    parts[n++] = payload;
    this.count = n;
    this.bytes += frameHeaderSize(len) + len;
  }

  protected heldBytes(): number {
    return this.bytes;
  }

  protected writeOut(): void {
    const parts = this.parts;
    const count = this.count;
    if (parts === null || count === 0) return;
    const n = this.bytes;
    releaseCounts.releases++;
    const sink = this.sink;
    const reuse = sink.heldDrained !== undefined && n <= SPARE_MAX && sink.heldDrained();
    const whole = reuse ? takeSpare(n) : Buffer.allocUnsafe(n);
    const buf = reuse ? whole.subarray(0, n) : whole;
    this.parts = null;
    this.count = 0;
    this.bytes = 0;
    let at = 0;
    for (let i = 0; i < count; i++) {
      const p = parts[i]!;
      parts[i] = 0; // the pooled list keeps no payload alive
      if (typeof p === 'number') at = writeFrameHeader(buf, at, p);
      else if (typeof p === 'string') at += buf.write(p, at);
      else {
        buf.set(p, at);
        at += p.length;
      }
    }
    returnParts(parts);
    sink.writeHeld(buf);
    if (reuse && sink.heldDrained!()) spare = whole;
  }
}
