// The WebSocket edge process. The main process hands it plain TCP sockets right after an HTTP upgrade request, and
// shares its standalone HTTP server's listening socket with it, on which the edge accepts connections too (keeping
// the WebSocket upgrades, passing plain HTTP through to the main process). The edge answers the RFC 7395 handshake
// (ws), reads frames and passes their bytes on, and writes the frames the main process sends. It knows nothing of
// XML or XMPP. Each socket's frames are held as in-process (src/xmpp/write-coalescing.ts): to the end of the main
// process's batch, and a busy socket's room frames (the records marked deferrable) up to the coalescing window, so a
// busy room's messages leave in one write per window.
//
// argv[2]: the largest frame accepted (the server's maxStanzaSize); argv[3..6]: c2s.coalesceMs, coalesceMaxBytes,
// coalesceMaxMs and coalesceWritesPerSecond.
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import {
  DIRECT_IDS,
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
import { detachFromServer, stopReadingForHandoff } from './handoff.js';
import { HeldFrames, WriteCoalescer, releaseCounts, type HeldFramesSink } from '../xmpp/write-coalescing.js';
import { refuseWithoutXmppSubprotocol } from '../xmpp/websocket-subprotocol.js';
import { forgetPeerAddress } from '../http/client-address.js';

function numberArg(i: number, what: string, min: number): number {
  const v = Number(process.argv[i]);
  if (!Number.isInteger(v) || v < min) {
    console.error(`websocket edge: bad ${what} argument ${process.argv[i]}`);
    process.exit(2);
  }
  return v;
}
const maxPayload = numberArg(2, 'frame limit', 1);
// One coalescer for every connection; its "tick" is one batch from the main process (ended by endBatch()).
const coalescer = new WriteCoalescer({
  windowMs: numberArg(3, 'coalescing window', 0),
  maxHeldBytes: numberArg(4, 'coalescing bytes', 0),
  maxWindowMs: numberArg(5, 'widest coalescing window', 0),
  writesPerSecond: numberArg(6, 'write budget', 1),
  minFanoutPerSecond: numberArg(7, 'fan-out rate for the window', 0),
  tickEndsBy: 'caller',
});
process.title = 'xmpp-websocket-edge';

/** One connection, and the writer of its held frames (methods rather than two closures per connection). */
class Conn implements HeldFramesSink {
  /** Buffered bytes last reported to the main process. */
  reported = 0;
  /** Frames held until the end of the batch or the coalescing window (their bytes count as buffered). */
  readonly held: HeldFrames = new HeldFrames(coalescer, this);
  /** The batch in which this connection last got a record (it is then in `touched`). */
  batch = -1;
  /** The main process sent Close: ws's own close calls go through from now on. */
  closeRequested = false;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly socket: Socket,
  ) {}

  writeHeld(bytes: Buffer): void {
    // Once ws started closing, nothing may follow its close frame.
    if (this.ws.readyState === WebSocket.OPEN) this.socket.write(bytes);
  }

  /**
   * The socket took the release whole (nothing queued before or after it): its buffer is built again for the next
   * release, of this connection or another, instead of a new one per release left to the garbage collector.
   */
  heldDrained(): boolean {
    return this.socket.writableLength === 0;
  }
}
const CONN = Symbol('conn');
type Tagged = WebSocket & { [CONN]: Conn };

const conns = new Map<number, Conn>();
/** Connections last reported with bytes waiting: re-checked until they drain. */
const draining = new Set<Conn>();
const pipe = new Socket({ fd: 4, readable: true, writable: true });
const out = new RecordWriter();
let flushQueued = false;

/** The smallest change in a connection's buffered bytes worth a record to the main process (see report()). */
const REPORT_STEP = 16 * 1024;

/** Past this many bytes waiting for the main process, the edge stops reading its clients until they are taken. */
const INBOUND_BACKLOG = 4 * 1024 * 1024;
let readingPaused = false;

function flush(): void {
  flushQueued = false;
  for (const b of out.take()) pipe.write(b);
  if (readingPaused || pipe.writableLength <= INBOUND_BACKLOG) return;
  // The main process is behind (or paused us): TCP pushes back on the clients instead of this process's memory.
  readingPaused = true;
  for (const c of conns.values()) c.socket.pause();
  for (const socket of proxied.values()) socket.pause();
  pipe.once('drain', () => {
    readingPaused = false;
    for (const c of conns.values()) c.socket.resume();
    for (const socket of proxied.values()) socket.resume();
  });
}
function queueFlush(): void {
  if (flushQueued) return;
  flushQueued = true;
  setImmediate(flush);
}

/**
 * Reports a connection's buffered bytes when they moved by REPORT_STEP or more since the last report, or came back
 * to 0. Frames held for the coalescing window (a few KiB at most, gone at the window's end) then cross no pipe:
 * reported exactly, every fan-out sent the main process a record per viewer when they were held and another when
 * they left. The main process sees at most REPORT_STEP less than is held per connection, next to its 4 MiB limit.
 */
function report(c: Conn): void {
  const b = c.ws.bufferedAmount + c.held.bytes;
  if (b === c.reported || (b !== 0 && Math.abs(b - c.reported) < REPORT_STEP)) return;
  c.reported = b;
  out.u32(FromEdge.Buffered, c.id, b);
  queueFlush();
  // Only a reported backlog needs watching until it drains; smaller ones go unreported either way.
  if (b > 0) draining.add(c);
  else draining.delete(c);
}
/** The release counts last sent to the main process. */
let releasesReported = 0;
setInterval(() => {
  for (const c of draining) report(c);
  if (releaseCounts.releases === releasesReported) return;
  releasesReported = releaseCounts.releases;
  out.f64x2(FromEdge.Releases, 0, releaseCounts.releases, releaseCounts.reused);
  queueFlush();
}, 100).unref();

// Shared listeners that find their connection on the WebSocket (no closures per connection).
function onMessage(this: Tagged, data: RawData, isBinary: boolean): void {
  const c = this[CONN];
  if (isBinary) out.empty(FromEdge.Binary, c.id);
  else out.bytes(FromEdge.Text, c.id, Array.isArray(data) ? Buffer.concat(data) : (data as Buffer));
  queueFlush();
}
function onPong(this: Tagged): void {
  out.empty(FromEdge.Pong, this[CONN].id);
  queueFlush();
}
function onClose(this: Tagged, code: number): void {
  const c = this[CONN];
  conns.delete(c.id);
  draining.delete(c);
  c.held.flush(); // writes nothing now: drops what was held
  out.u16(FromEdge.Closed, c.id, code);
  queueFlush();
  if (shuttingDown && conns.size === 0) process.exit(0);
}
function ignore(): void {
  /* 'close' follows */
}
const realClose = WebSocket.prototype.close;
/**
 * ws closes on its own in two cases where the main process must speak first, so the edge tells it and waits for its
 * frames and Close record (cut off after 2 s if they do not come):
 * - a frame too large (1009) or not UTF-8 (1007): RFC 6120 §4.9 wants the stream error before the close;
 * - the client's close frame: ws would answer at once, before the main process has even seen the frames the client
 *   sent ahead of it (a leave presence, `<close/>`), which in-process are handled before the answer.
 */
function closeWhenTold(this: Tagged, code?: number, data?: string | Buffer): void {
  const c = this[CONN];
  if (!c.closeRequested && this.readyState === WebSocket.OPEN && !shuttingDown) {
    const refused = code === 1009 || code === 1007;
    const peerClosed = (this as unknown as { _closeFrameReceived?: boolean })._closeFrameReceived === true;
    if (refused || peerClosed) {
      if (refused) out.u16(FromEdge.Refused, c.id, code);
      else out.empty(FromEdge.PeerClosing, c.id);
      queueFlush();
      setTimeout(() => this.terminate(), 2000).unref();
      return;
    }
  }
  // Whoever closes, what is held goes before the close frame.
  if (this.readyState === WebSocket.OPEN) c.held.flush();
  realClose.call(this, code, data);
}

/** `accepted`: a connection the edge accepted itself, which the main process learns of here. */
function attach(id: number, ws: WebSocket, accepted?: AcceptedInfo): void {
  const socket = (ws as unknown as { _socket: Socket })._socket;
  const c = new Conn(id, ws, socket);
  const t = ws as Tagged;
  t[CONN] = c;
  conns.set(id, c);
  if (readingPaused) socket.pause();
  ws.close = closeWhenTold as WebSocket['close'];
  t.on('message', onMessage as (this: WebSocket, data: RawData, isBinary: boolean) => void);
  t.on('pong', onPong as (this: WebSocket) => void);
  t.on('close', onClose as (this: WebSocket, code: number) => void);
  ws.on('error', ignore);
  if (accepted) out.bytes(FromEdge.Accepted, id, Buffer.from(JSON.stringify(accepted)));
  else out.empty(FromEdge.Opened, id);
  queueFlush();
}

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload,
  handleProtocols: (protocols) => (protocols.has('xmpp') ? 'xmpp' : false),
});

process.on('message', (msg: Handoff | ShareListener, handle: Socket | undefined) => {
  if (msg?.t === 'listen' && handle) return shareListener(msg, handle);
  if (msg?.t !== 'socket' || !handle) return;
  const socket = handle;
  let upgraded = false;
  // A failed handshake (ws answers 400 and destroys the socket) must still be reported.
  socket.once('close', () => {
    if (upgraded) return;
    out.u16(FromEdge.Closed, msg.id, 1006);
    queueFlush();
  });
  const req = { method: msg.method, url: msg.url, headers: msg.headers, socket } as unknown as IncomingMessage;
  wss.handleUpgrade(req, socket, Buffer.from(msg.head, 'base64'), (ws) => {
    upgraded = true;
    attach(msg.id, ws);
  });
});

// ---- Connections the edge accepts itself on the main process's listening socket ----
//
// Node passes a socket to another process one at a time, each waiting for the receiver's acknowledgement, which a
// main process busy with a join storm reads once per event-loop turn: handed over, 400 viewers connecting at once
// waited up to ~1.3 s for their handshake. Accepting on the shared listening socket, the edge takes them as fast as
// the kernel queues them. Plain HTTP requests (the web chat's page and assets, BOSH) go to the main process's HTTP
// server as bytes over the pipe, so they do not queue for the IPC channel either; only an upgrade to another path
// (S2S over WebSocket) travels there as a socket.

/** The most of a request's head read to decide where it goes; a longer head is the main process's to judge. */
const HEAD_LIMIT = 16 * 1024;
/** A connection that has not sent a whole request head by then is dropped (as Node's headersTimeout would). */
const HEAD_WAIT_MS = 60_000;
const UPGRADE_TO_WEBSOCKET = /\r\nupgrade:[ \t]*websocket[ \t]*\r\n/i;
const ANY_UPGRADE = /\r\nupgrade:/i;

/**
 * Handles on the shared listening socket: libuv accepts one connection per handle per event-loop turn, and the
 * edge's turns are long while it relays a storm's frames, so it gets as many as the main process has (each one sent
 * over IPC arrives as a descriptor of its own).
 */
const listeners: NetServer[] = [];
let websocketPath = '';
let nextDirectId = DIRECT_IDS;
/** Parses the heads of the upgrades the edge keeps (it never listens itself). */
const upgrades = createHttpServer((_req, res) => {
  // An upgrade header without `Connection: upgrade`: not a handshake ws would answer either.
  res.writeHead(400, { connection: 'close', 'content-type': 'text/plain' }).end('WebSocket upgrade expected\n');
});
upgrades.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
  if (refuseWithoutXmppSubprotocol(req, socket)) return;
  wss.handleUpgrade(req, socket, head, (ws) => {
    const info: AcceptedInfo = {
      url: req.url ?? '/',
      headers: req.headers,
      remoteAddress: (socket as Socket).remoteAddress ?? 'unknown',
    };
    forgetPeerAddress(socket);
    attach(directId(), ws, info);
  });
});

/** An id for a connection the edge accepted, from a range of its own (the main process numbers its handoffs). */
function directId(): number {
  const id = nextDirectId++;
  if (nextDirectId > 0xffff_ffff) nextDirectId = DIRECT_IDS;
  return id;
}

function shareListener(msg: ShareListener, handle: Socket): void {
  if (shuttingDown) return;
  websocketPath = msg.path;
  const server = new NetServer(onDirect);
  server.on('error', (err) => console.error(`websocket edge: shared listener: ${err.message}`));
  // listen() on a bare handle calls listen(2) again: with the main process's backlog, not Node's 511
  server.listen(handle as unknown as Parameters<NetServer['listen']>[0], msg.backlog);
  listeners.push(server);
  out.empty(FromEdge.Listening, 0);
  queueFlush();
}

/**
 * Reads a new connection's request head, then keeps it (a WebSocket upgrade to the path), or passes it to the main
 * process: proxied through the pipe (plain HTTP) or handed back as a socket (an upgrade to another path).
 */
function onDirect(socket: Socket): void {
  if (shuttingDown) return void socket.destroy();
  /** What the connection sent so far (a head nearly always comes in one read). */
  let read: Buffer | null = null;
  const done = (): void => {
    clearTimeout(timer);
    socket.off('readable', onReadable);
    socket.off('error', onError);
    socket.off('end', onError);
  };
  const onError = (): void => {
    done();
    socket.destroy();
  };
  const onReadable = (): void => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) read = read ? Buffer.concat([read, chunk]) : chunk;
    if (!read) return;
    const end = read.indexOf('\r\n\r\n');
    if (end < 0 && read.length < HEAD_LIMIT) return;
    done();
    const head = end >= 0 ? read.toString('latin1', 0, end + 2) : '';
    if (isUpgradeToPath(head)) {
      socket.unshift(read);
      upgrades.emit('connection', socket);
    } else if (ANY_UPGRADE.test(head)) {
      handBack(socket, read);
    } else {
      proxy(socket, read);
    }
  };
  const timer = setTimeout(onError, HEAD_WAIT_MS);
  socket.on('readable', onReadable);
  socket.on('error', onError);
  socket.on('end', onError);
}

/** `GET <path>[?query] HTTP/1.1` with `Upgrade: websocket`; anything else is the main process's. */
function isUpgradeToPath(head: string): boolean {
  if (!head.startsWith('GET ')) return false;
  const end = head.indexOf(' ', 4);
  if (end < 0) return false;
  const query = head.indexOf('?', 4);
  const path = head.slice(4, query >= 0 && query < end ? query : end);
  return path === websocketPath && UPGRADE_TO_WEBSOCKET.test(head);
}

/** Plain HTTP connections whose bytes cross the pipe to the main process's HTTP server, by id. */
const proxied = new Map<number, Socket>();
/** A proxied socket's id, found by its shared listeners (no closures per connection). */
const PROXIED_ID = Symbol('proxied id');
type ProxiedSocket = Socket & { [PROXIED_ID]: number };

function onProxiedData(this: ProxiedSocket, b: Buffer): void {
  out.bytes(FromEdge.HttpData, this[PROXIED_ID], b);
  queueFlush();
}
function onProxiedEnd(this: ProxiedSocket): void {
  out.empty(FromEdge.HttpEnd, this[PROXIED_ID]);
  queueFlush();
}
function onProxiedClose(this: ProxiedSocket): void {
  const id = this[PROXIED_ID];
  if (!proxied.delete(id)) return;
  out.empty(FromEdge.HttpClosed, id);
  queueFlush();
}

/** Serves a plain HTTP connection through the main process's HTTP server, starting with what was read of it. */
function proxy(socket: Socket, read: Buffer): void {
  if (socket.destroyed) return;
  const id = directId();
  (socket as ProxiedSocket)[PROXIED_ID] = id;
  proxied.set(id, socket);
  const info: ProxiedInfo = { remoteAddress: socket.remoteAddress ?? 'unknown', remotePort: socket.remotePort ?? 0 };
  out.bytes(FromEdge.HttpOpen, id, Buffer.from(JSON.stringify(info)));
  out.bytes(FromEdge.HttpData, id, read);
  queueFlush();
  // The main process ends or destroys the connection; a client that half-closes is told there.
  socket.allowHalfOpen = true;
  socket.on('data', onProxiedData);
  socket.on('end', onProxiedEnd);
  socket.on('close', onProxiedClose);
  socket.on('error', ignore);
  // Node resumes a stream on the tick after its 'readable' listener left when it has 'data' listeners; a pause
  // for the main process's backlog comes after that.
  process.nextTick(() => {
    if (readingPaused) socket.pause();
  });
}

/** Sends a connection to the main process with what was read of it, for its HTTP server. */
function handBack(socket: Socket, read: Buffer): void {
  if (socket.destroyed) return;
  const unread = stopReadingForHandoff(socket);
  const head = unread ? Buffer.concat([read, unread]) : read;
  detachFromServer(socket);
  const msg: HttpHandback = { t: 'http', head: head.toString('base64') };
  process.send!(msg, socket, () => socket.destroy());
}

/** Connections that got frames in the current batch (reported at its end), and the batch's number. */
const touched: Conn[] = [];
let batch = 0;
/** Marks a connection as written to in this batch, once: it is reported at the batch's end. */
function touch(c: Conn): void {
  if (c.batch === batch) return;
  c.batch = batch;
  touched.push(c);
}
/** The current fan-out template (ToEdge.Template): views into received chunks, which are never reused. */
let templateHead: Buffer = Buffer.alloc(0);
let templateTail: Buffer = Buffer.alloc(0);
const reader = new RecordReader((type, id, payload) => {
  if (type === ToEdge.EndBatch) return endBatch();
  if (type === ToEdge.Shutdown) return shutdown();
  if (type === ToEdge.Heartbeat) {
    out.empty(FromEdge.Heartbeat, 0);
    return queueFlush();
  }
  if (type === ToEdge.Template) {
    const headLength = payload.readUInt32LE(0);
    templateHead = payload.subarray(4, 4 + headLength);
    templateTail = payload.subarray(4 + headLength);
    return;
  }
  if (type === ToEdge.HttpData || type === ToEdge.HttpEnd || type === ToEdge.HttpDestroy)
    return onHttpRecord(type, id, payload);
  const c = conns.get(id);
  if (!c) return;
  const ws = c.ws;
  switch (type) {
    case ToEdge.Send:
    case ToEdge.SendDeferrable:
      if (ws.readyState !== WebSocket.OPEN) return;
      c.held.frame(payload, type === ToEdge.SendDeferrable);
      touch(c);
      return;
    case ToEdge.SendSpliced:
    case ToEdge.SendSplicedDeferrable:
      if (ws.readyState !== WebSocket.OPEN) return;
      c.held.frame3(templateHead, payload, templateTail, type === ToEdge.SendSplicedDeferrable);
      touch(c);
      return;
    case ToEdge.Close:
      c.held.flush(); // held frames and the session's last ones (stream error, <close/>) go before the close frame
      c.closeRequested = true;
      ws.close(payload.readUInt16LE(0));
      // A peer that never answers the closing handshake is cut off.
      setTimeout(() => ws.terminate(), 2000).unref();
      return;
    case ToEdge.Ping:
      if (ws.readyState === WebSocket.OPEN) ws.ping();
      return;
  }
});

/** What the main process's HTTP server does to a proxied connection. */
function onHttpRecord(type: number, id: number, payload: Buffer): void {
  const socket = proxied.get(id);
  if (!socket) return;
  if (type === ToEdge.HttpData) socket.write(payload);
  // Ended: what is queued leaves first. Destroyed: cut off, as the main process's own sockets would be.
  else if (type === ToEdge.HttpEnd) socket.end();
  else if (type === ToEdge.HttpDestroy) socket.destroy();
}

/**
 * At the end of a batch: each socket's frames not held for the window, however many pipe reads carried them, leave
 * in one write; the bytes each connection holds (window included) are reported.
 */
function endBatch(): void {
  coalescer.endTick();
  for (const c of touched) report(c);
  touched.length = 0;
  batch++;
}
pipe.on('data', (chunk: Buffer) => reader.push(chunk));

let shuttingDown = false;
function shutdown(): void {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const l of listeners.splice(0)) l.close();
  endBatch();
  if (conns.size === 0) process.exit(0);
  for (const c of conns.values()) if (c.ws.readyState === WebSocket.OPEN) c.ws.close(1001);
  // Peers that do not finish the closing handshake do not hold the exit.
  setTimeout(() => {
    for (const c of conns.values()) c.ws.terminate();
    flush();
    setTimeout(() => process.exit(0), 50);
  }, 1500).unref();
}

// The main process is gone: nobody is left to serve these connections.
const leave = (): void => process.exit(0);
process.on('disconnect', leave);
pipe.on('end', leave);
pipe.on('error', leave);

out.empty(FromEdge.Ready, 0);
flush();
