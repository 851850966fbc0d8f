// Anonymous viewers' addresses made ahead with their pictures drawn, in idle time. An anonymous viewer's picture is
// seeded by its address (its own vCard's and its occupant's, see AvatarService.anonymousSeed), and drawing one costs
// ~0.2 ms of the main thread: a tenth of a join storm, where hundreds log in within a second. So the random local
// part SASL ANONYMOUS hands out is made before the viewer arrives, with its avatar drawn while the server has nothing
// else to do; a login takes one, and the storm draws only for viewers past the stock. The addresses are as random as
// ever, only made earlier, and each is handed out once.
import { performance } from 'node:perf_hooks';
import { IDLE_BELOW, LoopIdleness } from '../loop-idleness.js';

/** One address made ahead and its drawing (kept as what AvatarService.adopt takes). */
export interface Drawn<A> {
  local: string;
  drawing: A;
}

export interface DrawnAheadOptions<A> {
  /** How many to keep ready. */
  size: number;
  /** A new random local part (SASL ANONYMOUS's). */
  newLocal: () => string;
  /** Draws the avatar for a local part's address. */
  draw: (local: string) => A;
  /** Gives a taken address's drawing to the avatar caches, as if it had just been drawn for it. */
  adopt: (local: string, drawing: A) => void;
  /**
   * How long one turn of drawing may take on a loop that was wholly idle, in ms (default 8), less the busier it was
   * (nothing at IDLE_BELOW, past which it does not draw): a storm arriving meanwhile waits at most that.
   */
  sliceMs?: number;
  /** How often to look, in ms (default 40): at most sliceMs / intervalMs of a core goes to drawing. */
  intervalMs?: number;
  /**
   * No drawing while logins take addresses faster than this many a second (default 30): that is a storm, whose loop
   * has idle moments (waiting on its clients' round trips) that are not its end. A trickle of logins (a busy instance's
   * viewers coming and going) does not stop the stock from refilling.
   */
  stormPerSecond?: number;
}

/** Half-life of the weighted count of recent logins (ms): a storm's end shows ~0.6 s after its last login. */
const LOGIN_HALF_LIFE_MS = 100;
const LOGIN_MEAN_LIFE_S = LOGIN_HALF_LIFE_MS / 1000 / Math.LN2;
/**
 * How long the stock still waits once a storm's logins have stopped (ms): its last viewers are still joining and
 * fetching history and vCards for most of a second after they logged in, on a loop with idle moments. Without it the
 * stock drew in the tail of every storm, a few tens of ms its last viewers waited for.
 */
const STORM_TAIL_MS = 1000;

export class DrawnAhead<A> {
  private readonly ready: Drawn<A>[] = [];
  /** Drawings made ahead since start (for tests and benches: the rest of AvatarService.renders was drawn on demand). */
  made = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly idleness = new LoopIdleness();
  private stopped = false;
  private readonly sliceMs: number;
  private readonly intervalMs: number;
  /** The weighted count of recent logins at which the stock pauses (logins a second × their mean life). */
  private readonly stormWeight: number;
  /** Recent logins, each weighing 1 when it happened and half as much every LOGIN_HALF_LIFE_MS since. */
  private logins = 0;
  private loginsAt = 0;
  /** When the last storm of logins was seen, plus STORM_TAIL_MS: no drawing before. */
  private quietFrom = 0;

  constructor(private readonly opts: DrawnAheadOptions<A>) {
    this.sliceMs = opts.sliceMs ?? 8;
    this.intervalMs = opts.intervalMs ?? 40;
    this.stormWeight = (opts.stormPerSecond ?? 30) * LOGIN_MEAN_LIFE_S;
  }

  /** The weighted count of recent logins, as of `now`. */
  private recentLogins(now: number): number {
    return this.logins * 0.5 ** ((now - this.loginsAt) / LOGIN_HALF_LIFE_MS);
  }

  /** Addresses ready to hand out. */
  get count(): number {
    return this.ready.length;
  }

  /** Whether the stock is full (nothing left to draw until a login takes one). */
  get full(): boolean {
    return this.ready.length >= this.opts.size;
  }

  /** Starts filling the stock in idle time. */
  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** A local part made ahead, its avatar now in the caches; undefined when none is ready (the caller makes one). */
  take(): string | undefined {
    const now = performance.now();
    this.logins = this.recentLogins(now) + 1;
    this.loginsAt = now;
    const d = this.ready.pop();
    this.schedule();
    if (d === undefined) return undefined;
    this.opts.adopt(d.local, d.drawing);
    return d.local;
  }

  private schedule(): void {
    if (this.timer || this.stopped || this.full) return;
    this.timer = setTimeout(this.turn, this.intervalMs);
    // The stock is a nicety: it never keeps the process alive.
    this.timer.unref();
  }

  private readonly turn = (): void => {
    this.timer = null;
    // Asked every turn, so that each judges only the last interval.
    const busy = this.idleness.busyShare();
    const now = performance.now();
    if (this.recentLogins(now) >= this.stormWeight) this.quietFrom = now + STORM_TAIL_MS;
    if (busy < IDLE_BELOW && now >= this.quietFrom) {
      const until = performance.now() + this.sliceMs * (1 - busy / IDLE_BELOW);
      do {
        const local = this.opts.newLocal();
        this.ready.push({ local, drawing: this.opts.draw(local) });
        this.made++;
      } while (!this.full && performance.now() < until);
    }
    this.schedule();
  };
}
