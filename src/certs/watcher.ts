// Watches a set of directories (not files: renewals replace files or re-point symlinks, which only the directory
// sees) and calls back once things have been quiet for `debounceMs`.
import { watch, type FSWatcher } from 'node:fs';

export class DirWatcher {
  private watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly debounceMs: number,
    private readonly onChange: () => void,
    private readonly onError: (msg: string) => void,
  ) {}

  /** Follows exactly `dirs` from now on: new ones are added, ones no longer listed are dropped. Returns how many are new. */
  setDirs(dirs: string[]): number {
    if (this.closed) return 0;
    let added = 0;
    const want = new Set(dirs);
    for (const [d, w] of this.watchers) {
      if (!want.has(d)) {
        w.close();
        this.watchers.delete(d);
      }
    }
    for (const d of want) {
      if (this.watchers.has(d)) continue;
      try {
        const w = watch(d, { persistent: false }, () => this.poke());
        w.on('error', (err) => {
          // The directory went away (or similar): stop following it; the reload this triggers re-lists the folder.
          w.close();
          this.watchers.delete(d);
          this.onError(`certificate: cannot watch ${d} any more (${err.message})`);
          this.poke();
        });
        this.watchers.set(d, w);
        added++;
      } catch (err) {
        this.onError(`certificate: cannot watch ${d} (${(err as Error).message})`);
      }
    }
    return added;
  }

  /** Schedules the (debounced) change callback as if a directory had changed. */
  poke(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onChange();
    }, this.debounceMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
