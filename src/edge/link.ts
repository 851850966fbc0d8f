// One running edge process, seen from the main process: forks it, hands it sockets, turns its records into
// transport events, and sends each tick's outbound frames for all connections in one batch.
import { fork, type ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FromEdge, RecordReader, RecordWriter, ToEdge, type Handoff } from './protocol.js';
import { EdgeTransport, type EdgeWriter } from './transport.js';
import type { CoalescingOptions } from '../xmpp/write-coalescing.js';

/** An edge that has not taken its backlog after this long is stuck. */
const STUCK_MS = 30_000;

export interface EdgeLinkOptions {
  maxStanzaSize: number;
  secure: boolean;
  /** The edge holds room frames per connection as the in-process transport does (c2s.coalesce*). */
  coalescing: Required<Omit<CoalescingOptions, 'tickEndsBy'>>;
  /** Starts a session on a connection whose handshake the edge completed. */
  accept(t: EdgeTransport): void;
  /** Bytes waiting in the pipe to the edge past which its clients are not read until it catches up. */
  maxBacklogBytes: number;
  log: { warn(msg: string): void };
}

export interface EdgeLinkStats {
  /** Pipe writes to the edge (one per batch) and the records (frames, closes, pings) they carried. */
  batchesOut: number;
  recordsOut: number;
  /** Records from the edge: frames, buffered-bytes reports, closes. */
  recordsIn: number;
  bufferedReports: number;
  /**
   * The edge's releases of held frames (one socket write each) and how many were built in its reused buffer, as it
   * last reported them (every 100 ms while they change).
   */
  releases: number;
  releasesReused: number;
  /** Bytes written to the pipe, and the fan-out templates among the records (see ToEdge.Template). */
  bytesOut: number;
  templates: number;
}

/**
 * The edge entry next to this file: child.js from dist/, child.ts when run from src/ through tsx; in a bundle (the
 * PeerTube plugin package), the edge's own bundle edge-child.mjs beside it.
 */
function childEntry(): string {
  const self = fileURLToPath(import.meta.url);
  const m = /link\.(ts|js)$/.exec(self);
  return m ? self.slice(0, m.index) + `child.${m[1]}` : join(dirname(self), 'edge-child.mjs');
}

/** This process's flags minus profiling and inspection (the edge must not write a second profile or bind a port). */
function childExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--inspect') || a.startsWith('--cpu-prof') || a.startsWith('--heap-prof')) {
      if (/^--(cpu|heap)-prof-(dir|name|interval)$/.test(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

export class EdgeLink implements EdgeWriter {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly stats: EdgeLinkStats = {
    batchesOut: 0,
    recordsOut: 0,
    recordsIn: 0,
    bufferedReports: 0,
    releases: 0,
    releasesReused: 0,
    bytesOut: 0,
    templates: 0,
  };
  /** The template the edge holds (the last one sent): the bytes around the JID in SendSpliced records. */
  private templateHead: Buffer | string | null = null;
  private templateTail: Buffer | string = '';
  flushes = 0;
  isReady = false;
  private pipe: Socket;
  private out = new RecordWriter();
  private flushQueued = false;
  private nextId = 1;
  /** Sockets handed over whose handshake has not finished: the client's address, resolved before the handoff. */
  private pending = new Map<number, string>();
  private transports = new Map<number, EdgeTransport>();
  private exited = false;
  private readingPaused = false;
  private readyHook: () => void = () => {};

  constructor(
    private opts: EdgeLinkOptions,
    onExit: (link: EdgeLink, code: number | null, signal: string | null) => void,
  ) {
    const co = opts.coalescing;
    const args = [opts.maxStanzaSize, co.windowMs, co.maxHeldBytes, co.maxWindowMs, co.writesPerSecond].map(String);
    this.child = fork(childEntry(), args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'],
      execArgv: childExecArgv(),
      serialization: 'json',
    });
    this.pipe = this.child.stdio[4] as Socket;
    const reader = new RecordReader((type, id, payload) => this.onRecord(type, id, payload));
    let markReady!: () => void;
    let failStart!: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => {
      markReady = res;
      failStart = rej;
    });
    this.ready.catch(() => {});
    this.readyHook = markReady;
    this.pipe.on('data', (chunk: Buffer) => reader.push(chunk));
    this.pipe.on('error', () => {
      /* the exit follows */
    });
    this.child.on('error', (err) => this.opts.log.warn(`websocket edge: ${err.message}`));
    this.child.once('exit', (code, signal) => {
      this.exited = true;
      this.isReady = false;
      failStart(new Error(`the edge process exited (code ${code}, signal ${signal}) before it was ready`));
      // Its sockets died with it: the clients see a closed connection and reconnect (or resume).
      this.pending.clear();
      const lost = [...this.transports.values()];
      this.transports.clear();
      for (const t of lost) t.onGone();
      onExit(this, code, signal);
    });
    // The edge never keeps this process alive; it exits itself when this process goes away.
    this.child.unref();
    this.pipe.unref();
    (this.child as unknown as { channel?: { unref(): void } }).channel?.unref();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get connections(): number {
    return this.transports.size + this.pending.size;
  }

  /** Hands an upgrade request's socket to the edge, which answers the handshake. */
  handoff(req: IncomingMessage, socket: Socket, head: Buffer, address: string): void {
    const id = this.nextId++;
    this.pending.set(id, address);
    // Node keeps this process's copy of the descriptor open, and reading (into nothing), until the edge acknowledges
    // the handle, while the edge has already answered the handshake: the client's first frame could be read and
    // lost here. This process stops reading it now; anything it had read already travels with the handle.
    const handle = (socket as unknown as { _handle?: { reading?: boolean; readStop?(): number } })._handle;
    if (handle?.readStop) {
      handle.reading = false;
      handle.readStop();
    }
    const unread = socket.readableLength > 0 ? (socket.read() as Buffer | null) : null;
    if (unread) head = Buffer.concat([head, unread]);
    const msg: Handoff = {
      t: 'socket',
      id,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      head: head.toString('base64'),
    };
    // Node would otherwise count the socket against its HTTP server through the child, and once that child has
    // exited, the server's close() never completes. Detached here, the husk left behind is destroyed once sent
    // (its descriptor then belongs to the edge), which is when the server stops counting it.
    (socket as { server?: unknown }).server = null;
    this.child.send(msg, socket, (err) => {
      if (err) this.pending.delete(id);
      socket.destroy();
    });
  }

  private onRecord(type: number, id: number, payload: Buffer): void {
    this.stats.recordsIn++;
    if (type === FromEdge.Ready) {
      this.isReady = true;
      this.readyHook();
      return;
    }
    if (type === FromEdge.Opened) {
      const address = this.pending.get(id);
      if (address === undefined) return;
      this.pending.delete(id);
      const t = new EdgeTransport(this, id, address, this.opts.secure, this.opts.maxStanzaSize);
      this.transports.set(id, t);
      this.opts.accept(t);
      return;
    }
    if (type === FromEdge.Releases) {
      this.stats.releases = payload.readDoubleLE(0);
      this.stats.releasesReused = payload.readDoubleLE(8);
      return;
    }
    if (type === FromEdge.Closed) {
      this.pending.delete(id);
      const t = this.transports.get(id);
      this.transports.delete(id);
      t?.onGone();
      return;
    }
    const t = this.transports.get(id);
    if (!t) return;
    switch (type) {
      case FromEdge.Text:
        t.onText(payload);
        return;
      case FromEdge.Binary:
        t.onBinary();
        return;
      case FromEdge.Pong:
        t.handler.touch?.();
        return;
      case FromEdge.Refused:
        t.onRefused(payload.readUInt16LE(0));
        return;
      case FromEdge.PeerClosing:
        // Everything the client sent before its close frame has been handled: the edge may answer it.
        this.close(id, 1000);
        return;
      case FromEdge.Buffered:
        this.stats.bufferedReports++;
        t.edgeBytes = payload.readUInt32LE(0);
        return;
    }
  }

  // ---- EdgeWriter: everything written in one tick leaves in one pipe write ----

  send(id: number, text: string, deferrable = false): number {
    this.queueFlush();
    return this.out.text(deferrable ? ToEdge.SendDeferrable : ToEdge.Send, id, text);
  }

  sendSplice(id: number, head: Buffer | string, mid: Buffer, tail: Buffer | string, deferrable = false): number {
    this.queueFlush();
    // A fan-out calls this once per recipient with the same head and tail (the tail may be a fresh copy of the same
    // bytes): they cross the pipe once, then only each recipient's JID. A MAM result brings a head of its own (its
    // ids), so each result is a small template and its archived message's bytes.
    if (head !== this.templateHead || !sameTail(tail, this.templateTail)) {
      this.out.template(ToEdge.Template, head, tail);
      this.templateHead = head;
      this.templateTail = tail;
      this.stats.templates++;
    }
    this.out.bytes(deferrable ? ToEdge.SendSplicedDeferrable : ToEdge.SendSpliced, id, mid);
    return head.length + mid.length + tail.length; // a text tail's characters: close enough for the running total
  }

  close(id: number, code: number): void {
    this.queueFlush();
    this.out.u16(ToEdge.Close, id, code);
  }

  ping(id: number): void {
    this.queueFlush();
    this.out.empty(ToEdge.Ping, id);
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    this.flushes++;
    if (this.exited || this.out.count === 0) {
      this.out.take();
      return;
    }
    this.stats.recordsOut += this.out.count;
    this.stats.batchesOut++;
    this.out.empty(ToEdge.EndBatch, 0);
    for (const b of this.out.take()) {
      this.stats.bytesOut += b.length;
      this.pipe.write(b);
    }
    if (!this.readingPaused && this.pipe.writableLength > this.opts.maxBacklogBytes) this.pauseReading();
  }

  /**
   * The edge is behind (a fan-out faster than its core): this process stops taking its clients' stanzas, so no new
   * fan-out adds to the backlog, until the edge has taken it all; the edge in turn stops reading its clients (TCP
   * pushes back on them). An edge that does not catch up within a while is stuck and restarted.
   */
  private pauseReading(): void {
    this.readingPaused = true;
    this.pipe.pause();
    this.opts.log.warn(
      `websocket edge ${this.pid} is ${this.pipe.writableLength} bytes behind: its clients are not read until it catches up`,
    );
    const stuck = setTimeout(() => {
      this.opts.log.warn(`websocket edge ${this.pid} did not catch up in ${STUCK_MS / 1000} s: restarting it`);
      this.kill();
    }, STUCK_MS);
    stuck.unref();
    this.pipe.once('drain', () => {
      clearTimeout(stuck);
      this.readingPaused = false;
      this.pipe.resume();
      this.opts.log.warn(`websocket edge ${this.pid} caught up: its clients are read again`);
    });
  }

  /** Asks the edge to close every connection and exit; kills it if it has not within graceMs. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.out.empty(ToEdge.Shutdown, 0);
    this.flush();
    const timer = setTimeout(() => this.kill(), graceMs);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (!this.exited && this.child.pid !== undefined) this.child.kill('SIGKILL');
  }
}

/** The same tail as the template's: the same text (=== compares strings by content) or equal bytes. */
function sameTail(a: Buffer | string, b: Buffer | string): boolean {
  return a === b || (typeof a !== 'string' && typeof b !== 'string' && a.equals(b));
}
