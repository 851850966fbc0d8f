// Keeps one WebSocket edge process running while the server runs: started by start(), stopped by stop(), restarted
// when it dies (its connections close; clients reconnect). Decides per upgrade whether the edge can take the socket;
// when it cannot (TLS, edge down), the caller serves it in-process.
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import type { Logger } from '../log.js';
import { EdgeLink, type EdgeLinkOptions, type EdgeLinkStats } from './link.js';

const START_TIMEOUT_MS = 15_000;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;
/** An edge that lived this long was healthy: the next restart is quick again. */
const HEALTHY_MS = 30_000;

const DOWN = 'websocket edge not running: WebSocket upgrades are served in-process';

/** The standalone HTTP server's listening socket, as shared with each edge process. */
export interface SharedListener {
  handle: unknown;
  backlog: number;
  /** The WebSocket path: upgrades to it stay in the edge. */
  path: string;
  /** Handles the edge accepts through (one connection per handle per event-loop turn). */
  copies: number;
  /** An edge accepts on it: this process may stop accepting itself. */
  edgeAccepts(): void;
  /** That edge is gone: this process accepts again until the next one does. */
  edgeGone(): void;
}

export class WebSocketEdge {
  private link: EdgeLink | null = null;
  private running = false;
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  /** Reasons upgrades stayed in-process, each logged once (the edge being down: once per outage). */
  private logged = new Set<string>();
  /** Edge processes started since start(), the first included. */
  generations = 0;
  /** The listening socket every edge accepts on too, once the standalone HTTP server listens. */
  private shared: SharedListener | null = null;

  constructor(
    private opts: Omit<EdgeLinkOptions, 'log'>,
    private log: Logger,
  ) {}

  get pid(): number | undefined {
    return this.link?.pid;
  }

  /** Connections the running edge holds (handshaking or open). */
  get connections(): number {
    return this.link?.connections ?? 0;
  }

  /** True while an edge process is up and taking sockets. */
  get ready(): boolean {
    return !!this.link?.isReady;
  }

  get stats(): EdgeLinkStats | undefined {
    return this.link?.stats;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.spawn();
  }

  private async spawn(): Promise<void> {
    const link = new EdgeLink(
      { ...this.opts, log: this.log, onListening: () => this.shared?.edgeAccepts() },
      (l, code, signal) => this.onExit(l, code, signal),
    );
    this.link = link;
    this.generations++;
    this.startedAt = Date.now();
    const timer = setTimeout(() => {
      this.log.warn(`websocket edge ${link.pid} not ready after ${START_TIMEOUT_MS} ms: killing it`);
      link.kill();
    }, START_TIMEOUT_MS);
    try {
      await link.ready;
      this.log.info(`websocket edge process ${link.pid} serves WebSocket framing for plain-TCP upgrades`);
      if (this.shared) link.shareListener(this.shared);
    } catch (err) {
      this.log.warn(`websocket edge: ${(err as Error).message}; WebSocket stays in-process until it runs`);
    } finally {
      clearTimeout(timer);
    }
  }

  private onExit(link: EdgeLink, code: number | null, signal: string | null): void {
    if (this.link === link) this.link = null;
    this.shared?.edgeGone();
    if (!this.running) return;
    if (Date.now() - this.startedAt > HEALTHY_MS) this.retryMs = FIRST_RETRY_MS;
    this.log.warn(
      `websocket edge process ${link.pid} exited (code ${code}, signal ${signal}): its connections closed; ` +
        `new WebSocket connections are served in-process until a new edge starts in ${this.retryMs} ms`,
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.running) void this.spawn();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }

  /** True when the edge can take this upgrade's socket: a plain TCP socket and an edge that is ready. */
  canTake(socket: Duplex): socket is Socket {
    if (!(socket instanceof Socket) || socket instanceof TLSSocket) {
      this.once('websocket edge: TLS (or non-TCP) WebSocket upgrades are served in-process');
      return false;
    }
    if (!this.link?.isReady) {
      this.once(DOWN);
      return false;
    }
    if (this.logged.delete(DOWN)) this.log.info('websocket edge takes WebSocket upgrades again');
    return true;
  }

  private once(why: string): void {
    if (this.logged.has(why)) return;
    this.logged.add(why);
    this.log.warn(why);
  }

  /**
   * The standalone HTTP server's listening socket: each edge (this one and any restarted one) accepts on it too,
   * and keeps the WebSocket upgrades to its path, so a join storm's connections do not queue for the IPC channel.
   */
  shareListener(shared: SharedListener): void {
    this.shared = shared;
    if (this.link?.isReady) this.link.shareListener(shared);
  }

  handoff(req: IncomingMessage, socket: Socket, head: Buffer, address: string): void {
    this.link!.handoff(req, socket, head, address);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.shared = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const link = this.link;
    this.link = null;
    await link?.stop();
  }
}
