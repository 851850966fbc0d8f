// One running edge process, seen from the main process: forks it, hands it sockets, turns its records into
// transport events, and sends each tick's outbound frames for all connections in one batch.
import { fork, type ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FromEdge,
  RecordReader,
  RecordWriter,
  ToEdge,
  type AcceptedInfo,
  type Handoff,
  type HttpHandback,
  type ProxiedInfo,
  type ShareListener,
} from './protocol.js';
import { EdgeTransport, type EdgeWriter } from './transport.js';
import { EdgeHttpSocket, type HttpPipe } from './http-socket.js';
import { detachFromServer, stopReadingForHandoff } from './handoff.js';
import type { CoalescingOptions } from '../xmpp/write-coalescing.js';

/** An edge that has not taken its backlog after this long is stuck. */
const STUCK_MS = 30_000;
/**
 * Bytes queued for the edge past which this process stops reading the edge's clients until it has taken them. A
 * storm's stanzas come in faster than a busy edge takes the answers out: unbounded, the queue grew to ~48 MB of
 * buffers here (peak RSS 140–155 MB against 104–110 MB while sockets reached the edge one at a time over IPC, which
 * throttled the intake); bounded at 1 MiB, 110–116 MB, the storm no slower (bench:live warm-storm).
 */
const PIPE_BACKLOG_BYTES = 1024 * 1024;
/** A pause longer than this is logged; shorter ones are every storm's flow control. */
const SLOW_PAUSE_MS = 1000;
/**
 * How often the edge is asked whether it still answers. Two unanswered in a row (the second sent after this process
 * had a turn to read the first answer) and it is killed: once it accepts for this process too, a hung edge would
 * otherwise leave nobody accepting connections.
 */
const HEARTBEAT_MS = 5000;

export interface EdgeLinkOptions {
  maxStanzaSize: number;
  secure: boolean;
  /** The edge holds room frames per connection as the in-process transport does (c2s.coalesce*). */
  coalescing: Required<Omit<CoalescingOptions, 'tickEndsBy' | 'wakeups'>>;
  /** Starts a session on a connection whose handshake the edge completed. */
  accept(t: EdgeTransport): void;
  /** The client's address of an upgrade request (trusted proxies' headers), for the connections the edge accepts. */
  addressOf(req: IncomingMessage): string;
  /**
   * Serves a connection the edge accepted on the shared listening socket that is not a WebSocket upgrade to the
   * path: a socket handed back with what the edge read of it (an upgrade to another path), or a plain HTTP
   * connection proxied through the pipe (an EdgeHttpSocket, `head` empty). Without it, such connections are closed.
   */
  adoptHttp?(socket: Socket | EdgeHttpSocket, head: Buffer): void;
  /**
   * Bytes waiting in the pipe to the edge past which its clients are not read until it catches up (at most 1 MiB:
   * PIPE_BACKLOG_BYTES).
   */
  maxBacklogBytes: number;
  /** The edge accepts on the listening socket shared with it (shareListener): called once per edge. */
  onListening?(): void;
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
  /** Upgrades handed to the edge by this process, and those the edge accepted itself on the shared listener. */
  handoffs: number;
  directAccepts: number;
  /** Connections the edge accepted on the shared listener: plain HTTP ones proxied, other upgrades handed back. */
  proxied: number;
  handedBack: number;
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

export class EdgeLink implements EdgeWriter, HttpPipe {
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
    handoffs: 0,
    directAccepts: 0,
    proxied: 0,
    handedBack: 0,
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
  /** Plain HTTP connections the edge accepted, proxied to the HTTP server. */
  private httpSockets = new Map<number, EdgeHttpSocket>();
  private exited = false;
  private readingPaused = false;
  private readyHook: () => void = () => {};
  private listening = false;
  /** Heartbeats sent and not answered yet. */
  private unanswered = 0;
  private heartbeat: NodeJS.Timeout;

  constructor(
    private opts: EdgeLinkOptions,
    onExit: (link: EdgeLink, code: number | null, signal: string | null) => void,
  ) {
    const co = opts.coalescing;
    const args = [
      opts.maxStanzaSize,
      co.windowMs,
      co.maxHeldBytes,
      co.maxWindowMs,
      co.writesPerSecond,
      co.minFanoutPerSecond,
    ].map(String);
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
    this.child.on('message', (msg: HttpHandback, socket: Socket | undefined) => {
      if (msg?.t !== 'http' || !socket) return;
      this.stats.handedBack++;
      if (this.opts.adoptHttp) this.opts.adoptHttp(socket, Buffer.from(msg.head, 'base64'));
      else socket.destroy();
    });
    this.child.once('exit', (code, signal) => {
      this.exited = true;
      clearInterval(this.heartbeat);
      this.isReady = false;
      failStart(new Error(`the edge process exited (code ${code}, signal ${signal}) before it was ready`));
      // Its sockets died with it: the clients see a closed connection and reconnect (or resume).
      this.pending.clear();
      const lost = [...this.transports.values()];
      this.transports.clear();
      for (const t of lost) t.onGone();
      const proxied = [...this.httpSockets.values()];
      this.httpSockets.clear();
      for (const h of proxied) h.gone();
      onExit(this, code, signal);
    });
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
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

  /**
   * Gives the edge a listening socket to accept on as well (a bare handle), `copies` times: one handle accepts one
   * connection per event-loop turn. The edge keeps WebSocket upgrades to `path` and passes every other connection to
   * adoptHttp; once it listens, onListening.
   */
  shareListener(shared: { handle: unknown; backlog: number; path: string; copies: number }): void {
    const msg: ShareListener = { t: 'listen', path: shared.path, backlog: shared.backlog };
    for (let i = 0; i < shared.copies; i++) {
      this.child.send(msg, shared.handle as Socket, (err) => {
        if (err && !this.exited)
          this.opts.log.warn(`websocket edge: the listening socket was not shared: ${err.message}`);
      });
    }
  }

  /** Hands an upgrade request's socket to the edge, which answers the handshake. */
  handoff(req: IncomingMessage, socket: Socket, head: Buffer, address: string): void {
    const id = this.nextId++;
    this.stats.handoffs++;
    this.pending.set(id, address);
    // The edge may answer the handshake before this process lets go: what it had read travels with the handle.
    const unread = stopReadingForHandoff(socket);
    if (unread) head = Buffer.concat([head, unread]);
    const msg: Handoff = {
      t: 'socket',
      id,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      head: head.toString('base64'),
    };
    detachFromServer(socket);
    this.child.send(msg, socket, (err) => {
      if (err) this.pending.delete(id);
      socket.destroy();
    });
  }

  private onRecord(type: number, id: number, payload: Buffer): void {
    this.stats.recordsIn++;
    if (type === FromEdge.Heartbeat) {
      this.unanswered = 0;
      return;
    }
    if (type === FromEdge.Listening) {
      if (!this.listening) this.opts.onListening?.();
      this.listening = true;
      return;
    }
    if (type === FromEdge.Ready) {
      this.isReady = true;
      this.readyHook();
      return;
    }
    if (type === FromEdge.Opened) {
      const address = this.pending.get(id);
      if (address === undefined) return;
      this.pending.delete(id);
      this.open(id, address);
      return;
    }
    if (type === FromEdge.Accepted) {
      const info = JSON.parse(payload.toString('utf8')) as AcceptedInfo;
      // The proxy headers are resolved here, as for the upgrades this process hands over.
      const req = { url: info.url, headers: info.headers, socket: { remoteAddress: info.remoteAddress } };
      this.stats.directAccepts++;
      this.open(id, this.opts.addressOf(req as unknown as IncomingMessage));
      return;
    }
    if (
      type === FromEdge.HttpOpen ||
      type === FromEdge.HttpData ||
      type === FromEdge.HttpEnd ||
      type === FromEdge.HttpClosed
    )
      return this.onHttpRecord(type, id, payload);
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

  private onHttpRecord(type: number, id: number, payload: Buffer): void {
    if (type === FromEdge.HttpOpen) {
      const info = JSON.parse(payload.toString('utf8')) as ProxiedInfo;
      const socket = new EdgeHttpSocket(this, id, info.remoteAddress, info.remotePort);
      this.httpSockets.set(id, socket);
      this.stats.proxied++;
      if (this.opts.adoptHttp) this.opts.adoptHttp(socket, Buffer.alloc(0));
      else socket.destroy();
      return;
    }
    const socket = this.httpSockets.get(id);
    if (!socket) return;
    if (type === FromEdge.HttpData) socket.received(payload);
    else if (type === FromEdge.HttpEnd) socket.ended();
    else if (type === FromEdge.HttpClosed) {
      this.httpSockets.delete(id);
      socket.gone();
    }
  }

  // ---- HttpPipe: a proxied connection's writes, in the same batches as the frames ----

  httpWrite(id: number, data: Buffer): void {
    this.queueFlush();
    this.out.bytes(ToEdge.HttpData, id, data);
  }

  httpEnd(id: number): void {
    this.queueFlush();
    this.out.empty(ToEdge.HttpEnd, id);
  }

  httpDestroy(id: number): void {
    this.httpSockets.delete(id);
    this.queueFlush();
    this.out.empty(ToEdge.HttpDestroy, id);
  }

  private beat(): void {
    if (this.exited || !this.isReady) return;
    // Its answers are not read while this process waits for it to catch up: the stuck timer watches it then.
    if (this.readingPaused) {
      this.unanswered = 0;
      return;
    }
    if (this.unanswered >= 2) {
      this.opts.log.warn(`websocket edge ${this.pid} stopped answering: restarting it`);
      this.kill();
      return;
    }
    this.unanswered++;
    this.queueFlush();
    this.out.empty(ToEdge.Heartbeat, 0);
  }

  private open(id: number, address: string): void {
    const t = new EdgeTransport(this, id, address, this.opts.secure, this.opts.maxStanzaSize);
    this.transports.set(id, t);
    this.opts.accept(t);
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
    const limit = Math.min(PIPE_BACKLOG_BYTES, this.opts.maxBacklogBytes);
    if (!this.readingPaused && this.pipe.writableLength > limit) this.pauseReading();
  }

  /**
   * The edge is behind (a storm's answers or a fan-out faster than its core): this process stops taking its
   * clients' stanzas, so no new work adds to the backlog, until the edge has taken it all; the edge in turn stops
   * reading its clients (TCP pushes back on them). An edge that does not catch up within a while is stuck and
   * restarted.
   */
  private pauseReading(): void {
    this.readingPaused = true;
    this.pipe.pause();
    let logged = false;
    const slow = setTimeout(() => {
      logged = true;
      this.opts.log.warn(
        `websocket edge ${this.pid} is ${this.pipe.writableLength} bytes behind for over ${SLOW_PAUSE_MS} ms: ` +
          'its clients are not read until it catches up',
      );
    }, SLOW_PAUSE_MS);
    const stuck = setTimeout(() => {
      this.opts.log.warn(`websocket edge ${this.pid} did not catch up in ${STUCK_MS / 1000} s: restarting it`);
      this.kill();
    }, STUCK_MS);
    slow.unref();
    stuck.unref();
    this.pipe.once('drain', () => {
      clearTimeout(slow);
      clearTimeout(stuck);
      this.readingPaused = false;
      this.pipe.resume();
      if (logged) this.opts.log.warn(`websocket edge ${this.pid} caught up: its clients are read again`);
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
