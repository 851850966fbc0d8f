// RFC 7395 XMPP over WebSocket: subprotocol "xmpp", one whole element per text message, <open/>/<close/> framing.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { Element } from './xml.js';
import { XmlStreamParser, type StreamParserHandler } from './xml-stream.js';
import {
  CLOSE_XML,
  framedElement,
  framedParserOptions,
  openXml,
  readTextMessage,
  refusedMessage,
} from './websocket-framing.js';
import { HeldFrames, type HeldFramesSink, type WriteCoalescer } from './write-coalescing.js';
import { refuseWithoutXmppSubprotocol } from './websocket-subprotocol.js';
import type { StreamHeader, StreamTransport, TransportHandler } from './transport.js';
import { requestPath } from '../http/request-path.js';
import { forgetPeerAddress, plainAddress } from '../http/client-address.js';

/**
 * The server's WebSocket: ws's own, with its events handed straight to the transport instead of to listeners (no
 * listener table and no closure per connection: an idle viewer's connection is mostly such small objects).
 */
export class XmppWebSocket extends WebSocket {
  transport: WebSocketTransport | null = null;
  /** Pongs handed to the socket and not yet written (see answerPing). */
  private pendingPongs = 0;

  // ws's server makes it as `new WebSocket(null, undefined, options)`: whatever ws passes, it passes on.
  constructor(...args: any[]) {
    super(...(args as [string, string[] | undefined, WebSocket.ClientOptions | undefined]));
    const own = this as unknown as { _events?: object; _extensions?: object };
    // Its events go to the transport (emit below) and nothing listens to it: EventEmitter's table of listeners (a
    // dictionary, ~180 B) is made on the first one instead.
    own._events = undefined;
    // ws gives each socket an empty object of its own for the extensions it negotiated (none here: 56 B).
    own._extensions = NO_EXTENSIONS;
  }

  override emit(event: string | symbol, ...args: any[]): boolean {
    if (event === 'ping') {
      this.answerPing(args[0] as Buffer);
      return true;
    }
    const t = this.transport;
    if (t) {
      switch (event) {
        case 'message':
          t.onMessage(args[0] as RawData, args[1] as boolean);
          this.releaseReadSlots();
          return true;
        case 'pong':
          t.handler.touch?.();
          return true;
        case 'close':
          t.openSet?.delete(this);
          t.onClose();
          return true;
      }
    }
    if (event === 'error') return true; // 'close' follows
    return super.emit(event, ...args);
  }

  /**
   * ws's receiver keeps the chunks it has not parsed yet in an array; once a message has emptied it, V8 still keeps
   * the array's slots (~150 B) for the connection's life, and most viewers send nothing for minutes. Setting the
   * length of the empty array gives them back; the next chunk makes new ones.
   */
  private releaseReadSlots(): void {
    const chunks = (this as unknown as { _receiver?: { _buffers?: unknown[] } })._receiver?._buffers;
    if (chunks !== undefined && chunks.length === 0) chunks.length = 0;
  }

  /**
   * The pong to a client's ping. ws's own (its autoPong option) keeps a closure, its context and three fields on every
   * connection (~120 B) for the few clients that ever ping; answered here, with the same bound: a client that keeps
   * pinging without reading its pongs is cut off once 60 of them wait for the socket (RFC 6455 §5.5.2, §5.5.3).
   */
  private answerPing(data: Buffer): void {
    if (this.readyState !== WebSocket.OPEN) return;
    if (this.pendingPongs >= MAX_PENDING_PONGS) {
      this.terminate();
      return;
    }
    this.pendingPongs++;
    this.pong(data, false, () => this.pendingPongs--);
  }

  /**
   * ws refuses a message above maxPayload (1009) or with invalid UTF-8 (1007) by closing before any event reaches
   * us. RFC 6120 §4.9 wants the peer told first: when ws starts that close, the session sends its stream error and
   * <close/> ahead of it.
   */
  override close(code?: number, data?: string | Buffer): void {
    this.transport?.beforeClose(code);
    super.close(code, data);
  }
}

/** The extensions of every server socket: none (the endpoint turns permessage-deflate off); ws only reads them. */
const NO_EXTENSIONS = Object.freeze({});

/** ws's default bound on automatic pongs not yet written, kept for ours. */
const MAX_PENDING_PONGS = 60;

// A socket made by another ws server (benches drive sessions over their own) gets shared listener functions.
const TRANSPORT = Symbol('transport');
type Tagged = WebSocket & { [TRANSPORT]: WebSocketTransport };
function onWsMessage(this: Tagged, data: RawData, isBinary: boolean): void {
  this[TRANSPORT].onMessage(data, isBinary);
}
function onWsPong(this: Tagged): void {
  this[TRANSPORT].handler.touch?.();
}
function onWsClose(this: Tagged): void {
  this[TRANSPORT].onClose();
}
function onWsError(): void {
  /* 'close' follows */
}

export class WebSocketTransport implements StreamTransport, StreamParserHandler, HeldFramesSink {
  readonly kind = 'websocket' as const;
  handler!: TransportHandler;
  private parser: XmlStreamParser;
  private closedByServer = false;
  /** Frames waiting for the end of the tick or the coalescing window (write-coalescing.ts). */
  private held: HeldFrames;
  /** The TCP socket below ws when frames may be written to it directly (no extension: no compression state). */
  private readonly socket: Socket | undefined;

  constructor(
    private ws: WebSocket,
    readonly remoteAddress: string,
    readonly secure: boolean,
    private maxStanzaSize: number,
    /** The endpoint's open sockets, which this one leaves when it closes (ws's own tracking is off). */
    readonly openSet?: Set<WebSocket>,
    coalescer?: WriteCoalescer,
  ) {
    openSet?.add(ws);
    this.held = new HeldFrames(coalescer, this);
    // Extensions are settled by the upgrade, before the transport exists.
    this.socket = ws.extensions === '' ? (ws as unknown as { _socket?: Socket })._socket : undefined;
    this.parser = new XmlStreamParser(this, framedParserOptions(maxStanzaSize));
    if (ws instanceof XmppWebSocket) {
      ws.transport = this;
    } else {
      const tagged = ws as Tagged;
      tagged[TRANSPORT] = this;
      tagged.on('message', onWsMessage as (this: WebSocket, data: RawData, isBinary: boolean) => void);
      tagged.on('pong', onWsPong as (this: WebSocket) => void);
      tagged.on('close', onWsClose as (this: WebSocket) => void);
      ws.on('error', onWsError);
    }
  }

  /** ws is about to close the socket (XmppWebSocket.close). */
  beforeClose(code: number | undefined): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (!this.closedByServer) refusedMessage(code, this.maxStanzaSize, this.handler);
    // Whatever ws closes for (a refused frame, the peer's close frame), what is held goes before its close frame.
    this.held.flush();
  }

  onClose(): void {
    if (!this.closedByServer) this.handler.transportClosed();
    this.closedByServer = true;
  }

  onMessage(data: RawData, isBinary: boolean): void {
    if (this.closedByServer) return;
    // Any message is a sign of life, whitespace keepalives included, not only whole stanzas.
    this.handler.touch?.();
    // ws hands over a Buffer (binaryType nodebuffer): Buffer.from() of it would copy every message.
    const buf = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      this.handler.streamError('unsupported-encoding', 'XMPP over WebSocket uses text messages');
      return;
    }
    readTextMessage(this.parser, buf, this.maxStanzaSize, this.handler);
  }

  /** A whole element from the parser (this transport is its handler: no closure per connection). */
  element(e: Element): void {
    framedElement(e, this.handler);
  }

  sendOpen(h: StreamHeader): void {
    this.sendRaw(openXml(h));
  }

  // Frames written in one tick (a fan-out loop), or in a busy room's window, are held and leave in one write of one
  // buffer, below ws: safe without extensions (no compression state), and ws writes its own frames (ping, pong,
  // close) whole, so frames never interleave. ws's control frames may pass held frames (RFC 6455 §5.4 allows them
  // between messages); its close frame never does: close() writes what is held first.

  sendRaw(xml: string, deferrable = false): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.socket) this.held.frame(xml, deferrable);
    else this.ws.send(xml);
  }

  sendSplice(head: Buffer | string, mid: Buffer, tail: Buffer | string, deferrable = false): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.socket) this.held.frame3(head, mid, tail, deferrable);
    else this.ws.send(Buffer.concat([bytesOf(head), mid, bytesOf(tail)]), { binary: false });
  }

  writeHeld(bytes: Buffer): void {
    // Once ws started closing (the peer's close, or ours), nothing more may follow its close frame.
    if (this.ws.readyState === this.ws.OPEN) this.socket!.write(bytes);
  }

  heldDrained(): boolean {
    return this.socket?.writableLength === 0;
  }

  close(streamError?: Element): void {
    if (this.closedByServer) return;
    this.closedByServer = true;
    if (this.ws.readyState === this.ws.OPEN) {
      // Held frames, then the error and the closing handshake, leave now rather than when the window ends.
      this.held.flush();
      if (streamError) this.ws.send(streamError.toString());
      this.ws.send(CLOSE_XML);
      this.ws.close(1000);
      // A peer that never answers the closing handshake is cut off.
      setTimeout(() => this.ws.terminate(), 2000).unref();
    } else {
      this.ws.terminate();
    }
  }

  bufferedBytes(): number {
    return this.ws.bufferedAmount + this.held.bytes;
  }

  ping(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.ping();
  }
}

export interface WebSocketEndpoint {
  /** Handles an HTTP upgrade; returns false when the path is not ours (the caller may route it elsewhere). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, pathOverride?: boolean): boolean;
  close(): void;
}

/**
 * The WebSocket endpoint. `accept` creates the session for a new transport. The endpoint can be mounted on any HTTP
 * server's 'upgrade' event (standalone or PeerTube's) without a proxy hop.
 */
export function createWebSocketEndpoint(opts: {
  path: string;
  maxStanzaSize: number;
  secure: boolean;
  /** Holds the connections' writes (write-coalescing.ts); by default until the end of the tick only. */
  coalescer?: WriteCoalescer;
  accept(t: WebSocketTransport): void;
  /** The client's address (behind trusted proxies); defaults to the socket's peer. */
  addressOf?(req: IncomingMessage): string;
}): WebSocketEndpoint {
  const open = new Set<XmppWebSocket>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    // Tracked in `open` instead: ws's tracking adds a 'close' listener closure per connection.
    clientTracking: false,
    // XmppWebSocket answers pings itself (answerPing): ws's automatic pong costs a closure per connection.
    autoPong: false,
    WebSocket: XmppWebSocket,
    // A frame is one element (RFC 7395 §3.3.3): nothing larger than a stanza is buffered.
    maxPayload: opts.maxStanzaSize,
    handleProtocols: (protocols) => (protocols.has('xmpp') ? 'xmpp' : false),
  });
  return {
    handleUpgrade(req, socket, head, pathOverride = false) {
      const path = requestPath(req);
      if (!pathOverride && path !== opts.path) return false;
      if (refuseWithoutXmppSubprotocol(req, socket)) return true;
      wss.handleUpgrade(req, socket, head, (ws) => {
        const addr = opts.addressOf?.(req) ?? plainAddress(req.socket.remoteAddress ?? 'unknown');
        forgetPeerAddress(req.socket);
        opts.accept(new WebSocketTransport(ws, addr, opts.secure, opts.maxStanzaSize, open, opts.coalescer));
      });
      return true;
    },
    close() {
      for (const c of open) c.terminate();
      open.clear();
      wss.close();
    },
  };
}

/** A splice run as bytes, for the rare path that sends without the held frames. */
function bytesOf(run: Buffer | string): Buffer {
  return typeof run === 'string' ? Buffer.from(run) : run;
}
