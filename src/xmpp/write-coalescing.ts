// Write coalescing: a connection's frames are held (the socket corked) and leave together in one syscall (writev).
//
// Every write is held at least until the end of the current tick, so the frames one fan-out loop writes to a socket
// leave together. A write the caller marks deferrable (a room's fan-out) on a busy socket — one that flushed fan-out
// frames within the last `windowMs` — is held longer, until that window ends (the coalescer's one shared timer): in
// a busy room the messages of several ticks then share one syscall per socket. The first fan-out frame after a quiet
// spell, and any write that is not deferrable (an IQ answer, a 1:1 message, a stream-management ack), leaves at the
// end of its tick and takes whatever was held with it, so order is kept and nothing waits behind a fan-out. Held
// bytes stay in the socket's own buffer (writableLength), so send-buffer limits keep counting them; past
// `maxHeldBytes` a socket is released at the end of the tick.
import type { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';

export interface CoalescingOptions {
  /** How long a busy socket's fan-out frames may be held, in ms; 0 holds them only until the end of the tick. */
  windowMs: number;
  /** Held bytes on one socket past which it is released at the end of the tick. */
  maxHeldBytes: number;
}

const IDLE = 0;
/** Corked, released by the end-of-tick callback. */
const TICK = 1;
/** Corked, released by the shared window timer (or earlier). */
const WINDOW = 2;

/** One per server: the shared end-of-tick callback and the one window timer for every held socket. */
export class WriteCoalescer {
  private tick: CorkedWrites[] = [];
  private window: CorkedWrites[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  /** Deadlines this close together are released by one timer callback. */
  private readonly slackMs: number;
  private readonly releaseTick = (): void => {
    const list = this.tick;
    this.tick = [];
    for (const c of list) c.release();
  };
  private readonly releaseWindow = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
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
    this.slackMs = options.windowMs / 8;
  }

  holdForTick(c: CorkedWrites): void {
    if (this.tick.push(c) === 1) process.nextTick(this.releaseTick);
  }

  /** Holds `c` until its deadline (a socket a fan-out released shares its deadline with the rest of the room). */
  holdForWindow(c: CorkedWrites): void {
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
 * One connection's held writes. An entry may sit in the coalescer's lists after it was already released (flush,
 * promotion to the end of the tick); releasing an idle entry does nothing, so stale entries are harmless.
 */
export class CorkedWrites {
  private socket: Writable | null = null;
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

  constructor(private readonly coalescer: WriteCoalescer = tickOnly) {}

  /** Call before each write to `socket`. `deferrable`: the frame may wait for the window (a fan-out delivery). */
  hold(socket: Writable, deferrable = false): void {
    const co = this.coalescer;
    if (deferrable) this.fanOut = true;
    if (this.state === IDLE) {
      this.socket = socket;
      socket.cork();
      const w = co.options.windowMs;
      if (deferrable && w > 0 && performance.now() - this.lastFlush < w) {
        // Busy: at most one flush per window; the frames wait for the end of the window that began at the last one.
        this.state = WINDOW;
        this.deadline = this.lastFlush + w;
        co.holdForWindow(this);
      } else {
        this.state = TICK;
        co.holdForTick(this);
      }
      return;
    }
    // Something that must not wait, or enough bytes for one syscall: everything held leaves at the end of the tick.
    if (this.state === WINDOW && (!deferrable || socket.writableLength >= co.options.maxHeldBytes)) {
      this.state = TICK;
      co.holdForTick(this);
    }
  }

  /** Writes what is held now (before a close, a TLS upgrade or a stream error, so they follow the held frames). */
  flush(): void {
    this.release();
  }

  /** Uncorks the socket if held (from the coalescer's lists or flush). */
  release(): void {
    if (this.state === IDLE) return;
    const s = this.socket;
    this.socket = null;
    this.state = IDLE;
    if (this.fanOut) this.lastFlush = performance.now();
    this.fanOut = false;
    s?.uncork();
  }
}
