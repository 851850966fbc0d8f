// Work that would wake the process on its own, done at a wake-up that is coming anyway. Waking costs a small VM
// ~180 µs of CPU before any work is done (bench/live/wake-cost.ts), and at a live's pace the server's main thread
// sleeps between messages. A busy room's write-coalescing window wakes it every `coalesceMs` to write what it held,
// and each archived message used to wake it once more when its write reached the disk. The archive now hands its
// write to the thread pool at the window's wake-up, just before the window's socket writes. In a large room those
// take longer than the disk (~0.5 ms), so the write's completion finds the loop still awake: one wake-up per message
// less, and the messages of a window written together.
//
// One owner (the write coalescer) says when its next wake-up comes and calls wake() when it does; riders (a room's
// archive) ask to be run then. Neither knows the other.
import { performance } from 'node:perf_hooks';

/** A ride asked for: cancelled, it does not run. */
export interface Ride {
  cancel(): void;
}

export class SharedWakeups {
  private riders: Array<() => void> = [];
  /** When the owner's next wake-up comes (performance.now() ms), Infinity when none is due. */
  private nextWakeup: () => number = () => Infinity;

  /** The owner tells how to know when its next wake-up comes. */
  setOwner(nextWakeup: () => number): void {
    this.nextWakeup = nextWakeup;
  }

  /**
   * Runs `fn` at the owner's next wake-up if one is due within `withinMs`, and returns how to cancel it; undefined
   * when none is (the caller wakes on its own). Should the wake-up not come, `fn` runs `graceMs` after it was due.
   */
  ride(fn: () => void, withinMs: number, graceMs = 50): Ride | undefined {
    const dueIn = this.nextWakeup() - performance.now();
    if (!(dueIn <= withinMs)) return undefined;
    const run = (): void => {
      clearTimeout(fallback);
      fn();
    };
    // Run on its own, it leaves the list, so that the wake-up finds only riders still waiting.
    const fallback = setTimeout(() => this.leave(run) && run(), Math.max(0, dueIn) + graceMs);
    this.riders.push(run);
    return {
      cancel: () => {
        clearTimeout(fallback);
        this.leave(run);
      },
    };
  }

  /** Takes a rider off the list; false when it was not on it any more. */
  private leave(run: () => void): boolean {
    const i = this.riders.indexOf(run);
    if (i < 0) return false;
    this.riders.splice(i, 1);
    return true;
  }

  /** The owner's wake-up: runs the riders waiting; true when there were any. */
  wake(): boolean {
    if (this.riders.length === 0) return false;
    const riders = this.riders;
    this.riders = [];
    for (const run of riders) run();
    return true;
  }
}
