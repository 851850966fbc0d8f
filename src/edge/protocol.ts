// The wire between the main process and the WebSocket edge process. Sockets travel over Node's IPC channel (the only
// way to pass a file descriptor); everything else goes over a separate pipe as binary records, so a fan-out's frames
// cross in one write of raw UTF-8 with no JSON escaping, and both directions keep their order.
//
// A record: u8 type, u32 connection id, u32 payload length, payload.
import { runBytes } from '../xmpp/ws-frame.js';

/** main → edge */
export const ToEdge = {
  /** Payload: a text frame for the client. */
  Send: 1,
  /** Payload: u16 close code. The edge sends the close frame and cuts the socket off if the peer never answers. */
  Close: 2,
  /** A WebSocket ping. */
  Ping: 3,
  /** The main process is stopping: close every connection and exit. */
  Shutdown: 4,
  /**
   * The end of one batch (one tick of the main process). A batch larger than the pipe's kernel buffer reaches the
   * edge over several reads: each socket's frames are held until here, so they still leave in one writev.
   */
  EndBatch: 5,
  /**
   * Payload: a text frame that may wait for the connection's coalescing window (a room's fan-out: the `deferrable`
   * hint of StreamTransport.sendRaw). A record type of its own, so the hint costs no byte on the wire.
   */
  SendDeferrable: 6,
  /**
   * Id 0. Payload: u32 head length, the head, the tail: the bytes a fan-out's frames share (a prepared stanza around
   * each recipient's JID). It stands until the next one; the SendSpliced records that follow use it, so a fan-out
   * crosses the pipe as one copy of the stanza and each recipient's JID.
   */
  Template: 7,
  /** Payload: the recipient's JID bytes; the frame is the current template's head, these bytes and its tail. */
  SendSpliced: 8,
  /** SendSpliced that may wait for the connection's coalescing window (as SendDeferrable). */
  SendSplicedDeferrable: 9,
  /** Payload: bytes the main process's HTTP server writes to a proxied connection (FromEdge.HttpOpen). */
  HttpData: 10,
  /** The main process's HTTP server ended a proxied connection (the edge ends the socket once it is written). */
  HttpEnd: 11,
  /** The main process's HTTP server destroyed a proxied connection. */
  HttpDestroy: 12,
  /** Id 0. Are you there? The edge answers FromEdge.Heartbeat at once; one that stops answering is restarted. */
  Heartbeat: 13,
} as const;

/** edge → main */
export const FromEdge = {
  /** The WebSocket handshake succeeded. */
  Opened: 1,
  /** Payload: a text frame from the client. */
  Text: 2,
  /** A binary frame from the client (not XMPP). */
  Binary: 3,
  /** A pong (sign of life). */
  Pong: 4,
  /** Payload: u16 code. ws refused a frame (1009 too large, 1007 bad UTF-8) and waits for the stream error. */
  Refused: 5,
  /** Payload: u16 close code. The connection is gone (or its handshake failed). */
  Closed: 6,
  /** Payload: u32 bytes the edge holds for this connection, sent when it changes. */
  Buffered: 7,
  /** The edge is ready for sockets (id 0). */
  Ready: 8,
  /** The client sent a close frame; the edge answers it once told to close (after what came before is handled). */
  PeerClosing: 9,
  /**
   * Payload: f64 releases, f64 of them built in the reused buffer (write-coalescing.ts), since the edge started
   * (id 0). Sent when they change, at most every 100 ms.
   */
  Releases: 10,
  /**
   * Payload: JSON of AcceptedInfo. A connection the edge accepted itself on the shared listening socket (see
   * ShareListener) completed its handshake; its id is the edge's (from DIRECT_IDS up).
   */
  Accepted: 11,
  /**
   * Payload: JSON of ProxiedInfo. A plain HTTP connection the edge accepted on the shared listening socket: its bytes
   * cross the pipe both ways (HttpData) to the main process's HTTP server, which sees it as a stream of its own.
   */
  HttpOpen: 12,
  /** Payload: bytes the client sent on a proxied connection. */
  HttpData: 13,
  /** The client ended its side of a proxied connection. */
  HttpEnd: 14,
  /** A proxied connection is gone. */
  HttpClosed: 15,
  /** Id 0. The edge accepts on the shared listening socket (ShareListener): the main process may stop accepting. */
  Listening: 16,
  /** Id 0. The answer to ToEdge.Heartbeat. */
  Heartbeat: 17,
} as const;

/** Connection ids the edge gives the connections it accepts itself; the main process's handoffs count from 1. */
export const DIRECT_IDS = 0x8000_0000;

/** A proxied HTTP connection's peer, as the main process's HTTP server would read it off a socket. */
export interface ProxiedInfo {
  remoteAddress: string;
  remotePort: number;
}

/** What the main process needs of an upgrade request the edge accepted itself (its proxy headers, its peer). */
export interface AcceptedInfo {
  url: string;
  headers: Record<string, string | string[] | undefined>;
  remoteAddress: string;
}

/** The IPC message that carries a socket to the edge (the socket is the message's handle). */
export interface Handoff {
  t: 'socket';
  id: number;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Bytes read past the upgrade request, base64. */
  head: string;
}

/**
 * The IPC message that gives the edge the standalone HTTP server's listening socket (the message's handle): the
 * edge accepts connections on it too and takes WebSocket upgrades to `path` itself; plain HTTP requests reach the
 * main process's HTTP server through the pipe (HttpOpen), other upgrades as sockets (HttpHandback). A storm's
 * sockets then cross no IPC channel, where Node passes them one at a time.
 */
export interface ShareListener {
  t: 'listen';
  path: string;
  backlog: number;
}

/** edge → main over IPC: an upgrade request to another path than the edge's (the handle), for the main process. */
export interface HttpHandback {
  t: 'http';
  /** What the edge read of it, base64: the main process's HTTP server reads it first. */
  head: string;
}

export const HEADER = 9;
const CHUNK = 64 * 1024;

/** Collects records into large buffers; take() hands them over (one pipe write each). */
export class RecordWriter {
  private chunks: Buffer[] = [];
  private buf: Buffer = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  /** Records since the last take(). */
  count = 0;

  private room(n: number): void {
    if (this.buf.length - this.used >= n) return;
    if (this.used > 0) this.chunks.push(this.buf.subarray(0, this.used));
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK, n));
    this.used = 0;
  }

  private header(type: number, id: number, len: number): void {
    const b = this.buf;
    const o = this.used;
    b[o] = type;
    b.writeUInt32LE(id, o + 1);
    b.writeUInt32LE(len, o + 5);
    this.used = o + HEADER;
    this.count++;
  }

  /** A record with a string payload, UTF-8 encoded straight into the buffer. Returns its payload's byte length. */
  text(type: number, id: number, s: string): number {
    this.room(HEADER + s.length * 3);
    const at = this.used;
    this.header(type, id, 0);
    const n = this.buf.write(s, this.used, 'utf8');
    this.buf.writeUInt32LE(n, at + 5);
    this.used += n;
    return n;
  }

  bytes(type: number, id: number, data: Buffer): void {
    this.room(HEADER + data.length);
    this.header(type, id, data.length);
    this.buf.set(data, this.used);
    this.used += data.length;
  }

  /** A Template record: `head`'s length, `head`, `tail` (each bytes, or text written as UTF-8). */
  template(type: number, head: Buffer | string, tail: Buffer | string): void {
    const headBytes = runBytes(head);
    const tailBytes = runBytes(tail);
    const len = 4 + headBytes + tailBytes;
    this.room(HEADER + len);
    this.header(type, 0, len);
    const buf = this.buf;
    const at = this.used;
    buf.writeUInt32LE(headBytes, at);
    if (typeof head === 'string') buf.write(head, at + 4);
    else buf.set(head, at + 4);
    if (typeof tail === 'string') buf.write(tail, at + 4 + headBytes);
    else buf.set(tail, at + 4 + headBytes);
    this.used += len;
  }

  u16(type: number, id: number, v: number): void {
    this.room(HEADER + 2);
    this.header(type, id, 2);
    this.buf.writeUInt16LE(v, this.used);
    this.used += 2;
  }

  u32(type: number, id: number, v: number): void {
    this.room(HEADER + 4);
    this.header(type, id, 4);
    this.buf.writeUInt32LE(v, this.used);
    this.used += 4;
  }

  f64x2(type: number, id: number, a: number, b: number): void {
    this.room(HEADER + 16);
    this.header(type, id, 16);
    this.buf.writeDoubleLE(a, this.used);
    this.buf.writeDoubleLE(b, this.used + 8);
    this.used += 16;
  }

  empty(type: number, id: number): void {
    this.room(HEADER);
    this.header(type, id, 0);
  }

  /** The buffers written since the last take(); the writer starts a fresh buffer. */
  take(): Buffer[] {
    if (this.used > 0) {
      this.chunks.push(this.buf.subarray(0, this.used));
      this.buf = this.buf.length - this.used >= 4096 ? this.buf.subarray(this.used) : Buffer.allocUnsafe(CHUNK);
      this.used = 0;
    }
    const out = this.chunks;
    this.chunks = [];
    this.count = 0;
    return out;
  }
}

export type RecordHandler = (type: number, id: number, payload: Buffer) => void;

/** Splits the pipe's byte stream back into records (payloads are views into received chunks, never reused). */
export class RecordReader {
  private pending: Buffer | null = null;

  constructor(private onRecord: RecordHandler) {}

  push(chunk: Buffer): void {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let o = 0;
    while (data.length - o >= HEADER) {
      const len = data.readUInt32LE(o + 5);
      if (data.length - o - HEADER < len) break;
      this.onRecord(data[o]!, data.readUInt32LE(o + 1), data.subarray(o + HEADER, o + HEADER + len));
      o += HEADER + len;
    }
    if (o < data.length) this.pending = data.subarray(o);
  }
}
