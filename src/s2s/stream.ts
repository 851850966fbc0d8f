// One S2S TCP connection as an XML stream (RFC 6120): bytes in and out, the parser with its limits, and the
// STARTTLS upgrade in either role. Knows nothing about dialback or routing; incoming.ts/outgoing.ts drive it.
import type net from 'node:net';
import tls from 'node:tls';
import type { Element } from '../xmpp/xml.js';
import { NS } from '../xmpp/namespaces.js';
import { TickCork } from '../xmpp/tick-cork.js';
import { StreamError, streamErrorElement, type StreamErrorCondition } from '../xmpp/errors.js';
import { XmlStreamParser } from '../xmpp/xml-stream.js';
import { Utf8StreamDecoder } from '../xmpp/utf8.js';
import { attrString } from '../xmpp/xml.js';

export interface S2sStreamHandler {
  opened(attrs: Record<string, string>): void;
  element(e: Element): void;
  /** The peer closed the stream or the connection went away; the stream is now dead. */
  closed(reason: string): void;
}

/**
 * What the S2S session code (incoming.ts, outgoing.ts) needs from a transport: TCP here, WebSocket in
 * ws-stream.ts. Sessions write whole top-level elements and the stream header through it.
 */
export interface S2sTransport {
  readonly kind: 'tcp' | 'websocket';
  handler: S2sStreamHandler;
  readonly remoteAddress: string;
  readonly createdAt: number;
  lastActivity: number;
  /** Encrypted (TLS on the socket, or a WebSocket reached over TLS). */
  readonly secure: boolean;
  /** The TLS socket when TLS ends here (certificate checks, SASL EXTERNAL); null otherwise. */
  readonly tlsSocket: tls.TLSSocket | null;
  /** STARTTLS can be negotiated on this transport. */
  readonly canStartTls: boolean;
  readonly closed: boolean;
  /** WebSocket only: how the peer framed its stream, and how many of its frames came unmasked (livechat's quirks). */
  readonly framing?: 'rfc' | 'legacy' | null;
  readonly unmaskedFrames?: number;
  open(attrs: Record<string, string | undefined>): void;
  write(xml: string): boolean;
  fail(condition: StreamErrorCondition, text?: string): void;
  close(streamError?: Element, reason?: string): void;
  restart(): void;
  upgradeServer(wrap: (s: net.Socket) => Promise<tls.TLSSocket>): Promise<boolean>;
  upgradeClient(options: tls.ConnectionOptions): Promise<boolean>;
}

export class S2sStream implements S2sTransport {
  readonly kind = 'tcp' as const;
  readonly canStartTls = true;
  socket: net.Socket;
  tlsSocket: tls.TLSSocket | null = null;
  lastActivity = Date.now();
  readonly createdAt = Date.now();
  readonly remoteAddress: string;
  private parser: XmlStreamParser;
  private decoder = new Utf8StreamDecoder();
  private dead = false;
  private upgrading = false;
  private cork = new TickCork();
  handler!: S2sStreamHandler;

  constructor(socket: net.Socket, private opts: { maxStanzaSize: number; maxSendBufferBytes: number }, tlsSocket?: tls.TLSSocket) {
    this.remoteAddress = (socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
    this.socket = tlsSocket ?? socket;
    this.tlsSocket = tlsSocket ?? null;
    this.parser = new XmlStreamParser({
      streamOpened: (attrs) => this.handler.opened(attrs),
      element: (e) => this.handler.element(e),
      streamClosed: () => this.close(undefined, 'peer closed the stream'),
    }, { framed: false, maxStanzaSize: opts.maxStanzaSize, defaultNs: NS.SERVER, maxDepth: 64 });
    this.attach(this.socket);
  }

  get secure(): boolean { return this.tlsSocket !== null; }
  get closed(): boolean { return this.dead; }

  private attach(s: net.Socket): void {
    s.setNoDelay(true);
    s.on('data', this.onData);
    s.on('close', this.onClose);
    s.on('error', () => { /* 'close' follows */ });
  }

  private detach(s: net.Socket): void {
    s.off('data', this.onData);
    s.off('close', this.onClose);
  }

  private onData = (chunk: Buffer): void => {
    if (this.dead || this.upgrading) return;
    this.lastActivity = Date.now();
    try {
      this.parser.write(this.decoder.write(chunk));
    } catch (err) {
      const e = err instanceof StreamError ? err : new StreamError('internal-server-error');
      this.fail(e.condition, e.text);
    }
  };

  private onClose = (): void => {
    if (this.upgrading || this.dead) return;
    this.dead = true;
    this.handler.closed('connection lost');
  };

  /** Writes the stream header. */
  open(attrs: Record<string, string | undefined>): void {
    this.write(`<?xml version='1.0'?><stream:stream${attrString({ xmlns: NS.SERVER, 'xmlns:stream': NS.STREAM, 'xmlns:db': NS.DIALBACK, ...attrs })}>`);
  }

  write(xml: string): boolean {
    if (this.dead || this.upgrading || this.socket.destroyed) return false;
    this.lastActivity = Date.now();
    this.cork.hold(this.socket);
    this.socket.write(xml);
    if (this.socket.writableLength > this.opts.maxSendBufferBytes) {
      this.fail('resource-constraint', 'peer is not reading');
      return false;
    }
    return true;
  }

  /** Ends the stream with a stream error (RFC 6120 §4.9) and tells the handler. */
  fail(condition: StreamErrorCondition, text?: string): void {
    this.close(streamErrorElement(condition, text), `${condition}${text ? `: ${text}` : ''}`);
  }

  close(streamError?: Element, reason = 'closed'): void {
    if (this.dead) return;
    this.dead = true;
    const s = this.socket;
    if (!s.destroyed && !this.upgrading) {
      if (streamError) s.write(streamError.toString());
      s.end('</stream:stream>');
      setTimeout(() => s.destroy(), 2000).unref();
    } else s.destroy();
    this.handler.closed(reason);
  }

  /** After STARTTLS, SASL success: the next bytes start a new stream. */
  restart(): void {
    this.decoder = new Utf8StreamDecoder();
    this.parser.reset();
  }

  /** Receiving side of STARTTLS: `<proceed/>`, then TLS with the certificate for the name the peer asks. */
  async upgradeServer(wrap: (s: net.Socket) => Promise<tls.TLSSocket>): Promise<boolean> {
    const raw = this.socket;
    this.upgrading = true;
    this.detach(raw);
    raw.write(`<proceed xmlns="${NS.TLS}"/>`);
    try {
      const secure = await wrap(raw);
      await handshake(secure);
      return this.finishUpgrade(secure);
    } catch {
      return this.abortUpgrade(raw);
    }
  }

  /** Initiating side, after the peer's `<proceed/>`. */
  async upgradeClient(options: tls.ConnectionOptions): Promise<boolean> {
    const raw = this.socket;
    this.upgrading = true;
    this.detach(raw);
    try {
      const secure = tls.connect({ ...options, socket: raw });
      await handshake(secure);
      return this.finishUpgrade(secure);
    } catch {
      return this.abortUpgrade(raw);
    }
  }

  private finishUpgrade(secure: tls.TLSSocket): boolean {
    this.upgrading = false;
    if (this.dead) { secure.destroy(); return false; }
    this.socket = secure;
    this.tlsSocket = secure;
    this.restart();
    this.attach(secure);
    return true;
  }

  private abortUpgrade(raw: net.Socket): boolean {
    this.upgrading = false;
    raw.destroy();
    if (!this.dead) {
      this.dead = true;
      this.handler.closed('TLS handshake failed');
    }
    return false;
  }
}

function handshake(s: tls.TLSSocket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const ok = () => { s.off('error', reject); resolve(); };
    s.once('secure', ok);
    s.once('secureConnect', ok);
    s.once('error', reject);
    s.once('close', () => reject(new Error('closed during TLS handshake')));
  });
}
