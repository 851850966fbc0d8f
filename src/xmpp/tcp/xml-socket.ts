// One XML stream over a TCP socket (RFC 6120), shared by client (c2s) and server (s2s) connections: bytes in through
// the stream parser with its limits, bytes out corked per tick, the closing </stream:stream>, stream restarts and
// the STARTTLS upgrade in either role. What the stream means (sessions, dialback) is the owner's business.
import type net from 'node:net';
import tls from 'node:tls';
import type { Element } from '../xml.js';
import { NS } from '../namespaces.js';
import { StreamError, type StreamErrorCondition } from '../errors.js';
import { XmlStreamParser } from '../xml-stream.js';
import { CorkedWrites, type WriteCoalescer } from '../write-coalescing.js';
import { Utf8StreamDecoder } from '../utf8.js';
import { plainAddress } from '../../http/client-address.js';

export interface XmlSocketEvents {
  opened(attrs: Record<string, string>): void;
  element(e: Element): void;
  /** The peer sent </stream:stream>. */
  streamClosed(): void;
  /** Bad XML or a limit passed: the owner sends the stream error and closes. */
  error(condition: StreamErrorCondition, text?: string): void;
  /** The connection went away without our close() (not called during a TLS upgrade). */
  lost(): void;
  /** Bytes arrived (keep-alive bookkeeping). */
  activity?(): void;
}

export interface XmlSocketOptions {
  maxStanzaSize: number;
  /** Namespace of top-level elements: jabber:client or jabber:server. */
  defaultNs: typeof NS.CLIENT | typeof NS.SERVER;
  /** Holds writes (write-coalescing.ts); by default until the end of the tick only. */
  coalescer?: WriteCoalescer;
}

export class XmlSocket {
  socket: net.Socket;
  tlsSocket: tls.TLSSocket | null;
  readonly remoteAddress: string;
  private parser: XmlStreamParser;
  /** Strict UTF-8: invalid bytes end the stream with not-well-formed (RFC 6120 §11.6). */
  private decoder = new Utf8StreamDecoder();
  private ended = false;
  private upgrading = false;
  private cork: CorkedWrites;

  constructor(
    socket: net.Socket,
    opts: XmlSocketOptions,
    private readonly events: XmlSocketEvents,
    tlsSocket?: tls.TLSSocket,
  ) {
    this.cork = new CorkedWrites(opts.coalescer);
    this.remoteAddress = plainAddress(socket.remoteAddress ?? 'unknown');
    this.socket = tlsSocket ?? socket;
    this.tlsSocket = tlsSocket ?? null;
    this.parser = new XmlStreamParser(
      {
        streamOpened: (attrs) => this.events.opened(attrs),
        element: (e) => this.events.element(e),
        streamClosed: () => this.events.streamClosed(),
      },
      { framed: false, maxStanzaSize: opts.maxStanzaSize, defaultNs: opts.defaultNs, maxDepth: 64 },
    );
    this.attach(this.socket);
  }

  get secure(): boolean {
    return this.tlsSocket !== null;
  }
  /** Closed by us or lost; nothing more is written. */
  get closed(): boolean {
    return this.ended;
  }

  private attach(s: net.Socket): void {
    s.setNoDelay(true);
    s.on('data', this.onData);
    s.on('close', this.onClose);
    s.on('error', () => {
      /* 'close' follows */
    });
  }

  private detach(s: net.Socket): void {
    s.off('data', this.onData);
    s.off('close', this.onClose);
  }

  private onData = (chunk: Buffer): void => {
    if (this.ended || this.upgrading) return;
    this.events.activity?.();
    try {
      this.parser.write(this.decoder.write(chunk));
    } catch (err) {
      const e = err instanceof StreamError ? err : new StreamError('internal-server-error');
      this.events.error(e.condition, e.text);
    }
  };

  private onClose = (): void => {
    if (this.upgrading || this.ended) return;
    this.ended = true;
    this.events.lost();
  };

  /**
   * Writes bytes (corked until the end of the tick, or the coalescing window when `deferrable`); false once the
   * stream is closed or upgrading.
   */
  write(xml: string, deferrable = false): boolean {
    if (this.ended || this.upgrading || this.socket.destroyed) return false;
    this.cork.hold(this.socket, deferrable);
    this.socket.write(xml);
    return true;
  }

  bufferedBytes(): number {
    return this.socket.writableLength;
  }

  /** Ends the stream: optional stream error, </stream:stream>, then the connection (forced after 2 s). */
  close(streamError?: Element): void {
    if (this.ended) return;
    this.ended = true;
    const s = this.socket;
    // Held frames leave first, then the error and the close, without waiting for the window.
    this.cork.flush();
    if (!s.destroyed && !this.upgrading) {
      if (streamError) s.write(streamError.toString());
      s.end('</stream:stream>');
      setTimeout(() => s.destroy(), 2000).unref();
    } else s.destroy();
  }

  /** After STARTTLS or SASL success: the next bytes start a new stream. */
  restart(): void {
    this.decoder = new Utf8StreamDecoder();
    this.parser.reset();
  }

  /** Receiving side of STARTTLS: `<proceed/>`, then TLS with what `wrap` chooses. False if the handshake failed. */
  async upgradeServer(wrap: (s: net.Socket) => Promise<tls.TLSSocket>): Promise<boolean> {
    const raw = this.socket;
    // From here the bytes on the socket are TLS: the XML parser must not see them.
    this.upgrading = true;
    this.detach(raw);
    // Nothing may stay corked in the plain socket's buffer once TLS takes it over.
    this.cork.flush();
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
    this.cork.flush();
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
    if (this.ended) {
      secure.destroy();
      return false;
    }
    this.socket = secure;
    this.tlsSocket = secure;
    this.restart();
    this.attach(secure);
    return true;
  }

  private abortUpgrade(raw: net.Socket): boolean {
    this.upgrading = false;
    this.ended = true;
    raw.destroy();
    return false;
  }
}

function handshake(s: tls.TLSSocket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const ok = () => {
      s.off('error', reject);
      resolve();
    };
    s.once('secure', ok);
    s.once('secureConnect', ok);
    s.once('error', reject);
    s.once('close', () => reject(new Error('closed during TLS handshake')));
  });
}
