// One send-buffer budget shared by all client connections: past it, the clients holding the most unsent bytes
// (the slowest readers) are dropped first, so a crowd of slow viewers cannot grow the server's memory without bound
// even when each stays under its own per-connection limit.
//
// Sessions report their buffer's size at each write (cheap, no scan). Buffers drain without telling anyone, so
// that running total only overestimates; when it passes the budget, one exact recount over all connections decides
// (at most one recount per RECOUNT_MIN_MS, so a server sitting near the budget does not scan on every write).

const RECOUNT_MIN_MS = 50;

/** What the budget needs from a connection. */
export interface BudgetedConnection {
  /** The size the budget last saw for this connection's buffer; kept by the budget, 0 to start. */
  budgetBytes: number;
  /** Bytes written to the transport and not yet handed to the kernel. */
  bufferedBytes(): number;
  /** Drops the connection with a stream error; it must stop counting (leave the set the budget scans). */
  fail(condition: 'resource-constraint', text?: string): void;
}

export interface SendBudgetStats {
  /** Connections dropped because the budget was exceeded, since start. */
  dropped: number;
  /** Exact recounts done (each scans every connection). */
  recounts: number;
}

export class SendBudget {
  private approx = 0;
  private scheduled = false;
  private lastRecount = 0;
  readonly stats: SendBudgetStats = { dropped: 0, recounts: 0 };

  constructor(
    readonly limitBytes: number,
    private connections: () => Iterable<BudgetedConnection>,
    private onDrop: (c: BudgetedConnection, buffered: number, total: number) => void = () => {},
  ) {}

  /** A connection's buffer now holds `bytes` (called after each write). */
  note(c: BudgetedConnection, bytes: number): void {
    this.approx += bytes - c.budgetBytes;
    c.budgetBytes = bytes;
    if (this.approx > this.limitBytes && !this.scheduled) this.schedule();
  }

  /** The connection is gone: its bytes no longer count. */
  release(c: BudgetedConnection): void {
    this.approx -= c.budgetBytes;
    c.budgetBytes = 0;
  }

  private schedule(): void {
    this.scheduled = true;
    const wait = this.lastRecount + RECOUNT_MIN_MS - Date.now();
    // setImmediate runs after the tick's corked writes were handed to the kernel, so the recount sees real backlog.
    if (wait <= 0) setImmediate(() => this.enforce());
    else setTimeout(() => this.enforce(), wait).unref();
  }

  /** Exact recount; drops the largest buffers until the total is back under the budget. Returns how many dropped. */
  enforce(): number {
    this.scheduled = false;
    this.lastRecount = Date.now();
    this.stats.recounts++;
    const held: Array<{ c: BudgetedConnection; bytes: number }> = [];
    let total = 0;
    for (const c of this.connections()) {
      const bytes = c.bufferedBytes();
      c.budgetBytes = bytes;
      if (bytes <= 0) continue;
      total += bytes;
      held.push({ c, bytes });
    }
    let dropped = 0;
    if (total > this.limitBytes) {
      held.sort((a, b) => b.bytes - a.bytes);
      for (const h of held) {
        if (total <= this.limitBytes) break;
        this.onDrop(h.c, h.bytes, total);
        total -= h.bytes;
        h.c.budgetBytes = 0;
        h.c.fail('resource-constraint', 'the server is short of memory for slow readers');
        dropped++;
      }
      this.stats.dropped += dropped;
    }
    this.approx = total;
    return dropped;
  }
}
