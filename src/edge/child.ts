// The WebSocket edge process. The main process hands it plain TCP sockets right after an HTTP upgrade request; the
// edge answers the RFC 7395 handshake (ws), reads frames and passes their bytes on, and writes the frames the main
// process sends. It knows nothing of XML or XMPP. Each socket's frames are held as in-process
// (src/xmpp/write-coalescing.ts): to the end of the main process's batch, and a busy socket's room frames (the
// records marked deferrable) up to the coalescing window, so a busy room's messages leave in one write per window.
//
// argv[2]: the largest frame accepted (the server's maxStanzaSize); argv[3..6]: c2s.coalesceMs, coalesceMaxBytes,
// coalesceMaxMs and coalesceWritesPerSecond.
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { FromEdge, RecordReader, RecordWriter, ToEdge, type Handoff } from './protocol.js';
import { HeldFrames, WriteCoalescer, releaseCounts } from '../xmpp/write-coalescing.js';

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
  tickEndsBy: 'caller',
});
process.title = 'xmpp-websocket-edge';

interface Conn {
  id: number;
  ws: WebSocket;
  socket: Socket;
  /** Buffered bytes last reported to the main process. */
  reported: number;
  /** Frames held until the end of the batch or the coalescing window (their bytes count as buffered). */
  held: HeldFrames;
  /** The batch in which this connection last got a record (it is then in `touched`). */
  batch: number;
  /** The main process sent Close: ws's own close calls go through from now on. */
  closeRequested: boolean;
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
  pipe.once('drain', () => {
    readingPaused = false;
    for (const c of conns.values()) c.socket.resume();
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

function attach(id: number, ws: WebSocket): void {
  const socket = (ws as unknown as { _socket: Socket })._socket;
  const c: Conn = { id, ws, socket, reported: 0, held: null!, batch: -1, closeRequested: false };
  c.held = new HeldFrames(
    coalescer,
    (bytes) => {
      // Once ws started closing, nothing may follow its close frame.
      if (ws.readyState === WebSocket.OPEN) socket.write(bytes);
    },
    // The socket took the release whole (nothing queued before or after it): its buffer is built again for the
    // next release, of this connection or another, instead of a new one per release left to the garbage collector.
    () => socket.writableLength === 0,
  );
  const t = ws as Tagged;
  t[CONN] = c;
  conns.set(id, c);
  if (readingPaused) socket.pause();
  ws.close = closeWhenTold as WebSocket['close'];
  t.on('message', onMessage as (this: WebSocket, data: RawData, isBinary: boolean) => void);
  t.on('pong', onPong as (this: WebSocket) => void);
  t.on('close', onClose as (this: WebSocket, code: number) => void);
  ws.on('error', ignore);
  out.empty(FromEdge.Opened, id);
  queueFlush();
}

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload,
  handleProtocols: (protocols) => (protocols.has('xmpp') ? 'xmpp' : false),
});

process.on('message', (msg: Handoff, socket: Socket | undefined) => {
  if (msg?.t !== 'socket' || !socket) return;
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
  if (type === ToEdge.Template) {
    const headLength = payload.readUInt32LE(0);
    templateHead = payload.subarray(4, 4 + headLength);
    templateTail = payload.subarray(4 + headLength);
    return;
  }
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
