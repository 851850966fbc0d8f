// A plain HTTP connection the edge process accepted, as the main process's HTTP server sees it: a duplex stream
// whose bytes cross the pipe to the edge, which holds the real socket (FromEdge.HttpOpen). http.Server takes any
// duplex through its 'connection' event; this one also answers what it asks of a socket (the peer's address, idle
// timeouts for keep-alive).
import { Duplex } from 'node:stream';

/** What a proxied connection needs from the link to its edge. */
export interface HttpPipe {
  httpWrite(id: number, data: Buffer): void;
  httpEnd(id: number): void;
  httpDestroy(id: number): void;
}

export class EdgeHttpSocket extends Duplex {
  readonly remoteFamily: string;
  /** Idle timeout (setTimeout), rearmed by traffic either way. */
  private idleMs = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  /** The edge's side is gone: nothing more is sent to it. */
  private edgeGone = false;

  constructor(
    private edge: HttpPipe,
    readonly id: number,
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {
    super({ allowHalfOpen: true });
    this.remoteFamily = remoteAddress.includes(':') ? 'IPv6' : 'IPv4';
  }

  // ---- from the edge ----

  received(data: Buffer): void {
    this.touch();
    this.push(data);
  }

  ended(): void {
    this.push(null);
  }

  /** The edge's socket closed (or the edge died). */
  gone(): void {
    this.edgeGone = true;
    this.destroy();
  }

  // ---- what http.Server asks of a socket ----

  setTimeout(ms: number, onTimeout?: () => void): this {
    this.idleMs = ms;
    if (onTimeout) this.once('timeout', onTimeout);
    this.touch();
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  address(): object {
    return {};
  }

  private touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.idleMs > 0 && !this.destroyed) {
      this.idleTimer = setTimeout(() => this.emit('timeout'), this.idleMs);
      this.idleTimer.unref();
    }
  }

  // ---- Duplex ----

  override _read(): void {
    // Bytes are pushed as the edge sends them; the pipe's own backlog limit holds the edge back.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.touch();
    if (!this.edgeGone) this.edge.httpWrite(this.id, chunk);
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    if (!this.edgeGone) this.edge.httpEnd(this.id);
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (!this.edgeGone) {
      this.edgeGone = true;
      this.edge.httpDestroy(this.id);
    }
    done(err);
  }
}
