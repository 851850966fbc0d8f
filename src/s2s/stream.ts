// One S2S TCP connection as an XML stream (RFC 6120) in jabber:server: the shared TCP XML stream (XmlSocket, the
// same one client connections use) plus what S2S adds: the dialback namespace in the header, a bound on unread
// bytes, and one `closed` event however the stream ends. Knows nothing about dialback or routing; incoming.ts and
// outgoing.ts drive it.
import type net from 'node:net';
import type tls from 'node:tls';
import type { Element } from '../xmpp/xml.js';
import { NS } from '../xmpp/namespaces.js';
import { streamErrorElement, type StreamErrorCondition } from '../xmpp/errors.js';
import { attrString } from '../xmpp/xml.js';
import { XmlSocket } from '../xmpp/tcp/xml-socket.js';

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
  /** Start of the authentication deadline; moved forward by stalls of the server, as lastActivity is. */
  authClockStart: number;
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
  lastActivity = Date.now();
  authClockStart = Date.now();
  private xs: XmlSocket;
  private dead = false;
  handler!: S2sStreamHandler;

  constructor(
    socket: net.Socket,
    private opts: { maxStanzaSize: number; maxSendBufferBytes: number },
    tlsSocket?: tls.TLSSocket,
  ) {
    this.xs = new XmlSocket(
      socket,
      { maxStanzaSize: opts.maxStanzaSize, defaultNs: NS.SERVER },
      {
        opened: (attrs) => this.handler.opened(attrs),
        element: (e) => this.handler.element(e),
        streamClosed: () => this.close(undefined, 'peer closed the stream'),
        error: (c, t) => this.fail(c, t),
        lost: () => this.ended('connection lost'),
        activity: () => {
          this.lastActivity = Date.now();
        },
      },
      tlsSocket,
    );
  }

  get socket(): net.Socket {
    return this.xs.socket;
  }
  get tlsSocket(): tls.TLSSocket | null {
    return this.xs.tlsSocket;
  }
  get remoteAddress(): string {
    return this.xs.remoteAddress;
  }
  get secure(): boolean {
    return this.xs.secure;
  }
  get closed(): boolean {
    return this.dead;
  }

  private ended(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    this.handler.closed(reason);
  }

  /** Writes the stream header. */
  open(attrs: Record<string, string | undefined>): void {
    this.write(
      `<?xml version='1.0'?><stream:stream${attrString({ xmlns: NS.SERVER, 'xmlns:stream': NS.STREAM, 'xmlns:db': NS.DIALBACK, ...attrs })}>`,
    );
  }

  write(xml: string): boolean {
    if (this.dead || !this.xs.write(xml)) return false;
    this.lastActivity = Date.now();
    if (this.xs.bufferedBytes() > this.opts.maxSendBufferBytes) {
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
    this.xs.close(streamError);
    this.ended(reason);
  }

  /** After STARTTLS, SASL success: the next bytes start a new stream. */
  restart(): void {
    this.xs.restart();
  }

  /** Receiving side of STARTTLS: `<proceed/>`, then TLS with the certificate for the name the peer asks. */
  async upgradeServer(wrap: (s: net.Socket) => Promise<tls.TLSSocket>): Promise<boolean> {
    const ok = await this.xs.upgradeServer(wrap);
    if (!ok) this.ended('TLS handshake failed');
    return ok;
  }

  /** Initiating side, after the peer's `<proceed/>`. */
  async upgradeClient(options: tls.ConnectionOptions): Promise<boolean> {
    const ok = await this.xs.upgradeClient(options);
    if (!ok) this.ended('TLS handshake failed');
    return ok;
  }
}
