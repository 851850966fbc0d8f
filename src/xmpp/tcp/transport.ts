// RFC 6120 XMPP over TCP for clients: a real XML stream (<stream:stream>), STARTTLS, or TLS from the first byte
// (XEP-0368). The session core is the same one WebSocket and BOSH carry.
import type net from 'node:net';
import type tls from 'node:tls';
import { Element, el } from '../xml.js';
import { NS } from '../namespaces.js';
import { StreamError } from '../errors.js';
import { XmlStreamParser } from '../xml-stream.js';
import { Utf8StreamDecoder } from '../utf8.js';
import { TickCork } from '../tick-cork.js';
import type { StreamHeader, StreamTransport, TransportHandler } from '../transport.js';
import type { CertificateStore } from '../../certs/index.js';
import { channelBindings } from '../../certs/index.js';

export interface TcpTransportOptions {
  certs: CertificateStore;
  maxStanzaSize: number;
  requireEncryption: boolean;
  /** The socket is already TLS (direct TLS port). */
  tlsSocket?: tls.TLSSocket;
}

export class TcpTransport implements StreamTransport {
  readonly kind = 'tcp' as const;
  handler!: TransportHandler;
  readonly remoteAddress: string;
  secure: boolean;
  private socket: net.Socket;
  private parser: XmlStreamParser;
  private decoder = new Utf8StreamDecoder();
  private closedByServer = false;
  private upgrading = false;
  private cork = new TickCork();
  private bindings: ReturnType<typeof channelBindings> = {};

  constructor(socket: net.Socket, private opts: TcpTransportOptions) {
    this.remoteAddress = (socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
    this.socket = opts.tlsSocket ?? socket;
    this.secure = !!opts.tlsSocket;
    if (opts.tlsSocket) this.bindings = channelBindings(opts.tlsSocket);
    this.parser = new XmlStreamParser({
      streamOpened: (attrs) => this.onStreamOpened(attrs),
      element: (e) => this.onElement(e),
      streamClosed: () => this.handler.streamClosed(),
    }, { framed: false, maxStanzaSize: opts.maxStanzaSize, defaultNs: NS.CLIENT, maxDepth: 64 });
    this.attach(this.socket);
  }

  private attach(s: net.Socket): void {
    s.setNoDelay(true);
    s.on('data', this.onData);
    s.on('close', this.onClose);
    s.on('error', () => { /* 'close' follows */ });
  }

  private onData = (chunk: Buffer): void => {
    if (this.closedByServer || this.upgrading) return;
    this.handler.touch?.();
    try {
      this.parser.write(this.decoder.write(chunk));
    } catch (err) {
      const e = err instanceof StreamError ? err : new StreamError('internal-server-error');
      this.handler.streamError(e.condition, e.text);
    }
  };

  private onClose = (): void => {
    if (this.upgrading) return;
    if (!this.closedByServer) this.handler.transportClosed();
    this.closedByServer = true;
  };

  private onStreamOpened(attrs: Record<string, string>): void {
    if (attrs['xmlns:stream'] !== NS.STREAM) {
      this.handler.streamError('invalid-namespace', 'the stream namespace must be http://etherx.jabber.org/streams');
      return;
    }
    if (attrs.xmlns !== NS.CLIENT) {
      this.handler.streamError('invalid-namespace', 'client streams use jabber:client');
      return;
    }
    this.handler.streamOpened(attrs);
  }

  private onElement(e: Element): void {
    if (e.name === 'starttls' && e.attrs.xmlns === NS.TLS) {
      void this.startTls();
      return;
    }
    if (this.opts.requireEncryption && !this.secure) {
      // RFC 6120 §5.3.1: TLS is mandatory-to-negotiate here; anything else is refused.
      this.handler.streamError('policy-violation', 'encryption is required: use STARTTLS');
      return;
    }
    this.handler.element(e);
  }

  private async startTls(): Promise<void> {
    if (this.secure) {
      this.handler.streamError('policy-violation', 'TLS is already on');
      return;
    }
    const raw = this.socket;
    // From here the bytes on the socket are TLS: the XML parser must not see them.
    this.upgrading = true;
    raw.off('data', this.onData);
    raw.off('close', this.onClose);
    raw.write(el('proceed', { xmlns: NS.TLS }).toString());
    try {
      const secure = await this.opts.certs.wrapServerSocket(raw);
      await new Promise<void>((resolve, reject) => {
        secure.once('secure', resolve);
        secure.once('error', reject);
        secure.once('close', () => reject(new Error('closed during TLS handshake')));
      });
      this.socket = secure;
      this.secure = true;
      this.bindings = channelBindings(secure);
      this.decoder = new Utf8StreamDecoder();
      this.parser.reset();
      this.upgrading = false;
      this.attach(secure);
    } catch {
      this.upgrading = false;
      this.closedByServer = true;
      raw.destroy();
      this.handler.transportClosed();
    }
  }

  sendOpen(h: StreamHeader): void {
    this.sendRaw(`<?xml version='1.0'?><stream:stream xmlns="${NS.CLIENT}" xmlns:stream="${NS.STREAM}" from="${h.from}" id="${h.id}" version="${h.version}" xml:lang="${h.lang}">`);
  }

  sendRaw(xml: string): void {
    if (this.closedByServer || this.upgrading || this.socket.destroyed) return;
    this.cork.hold(this.socket);
    this.socket.write(xml);
  }

  close(streamError?: Element): void {
    if (this.closedByServer) return;
    this.closedByServer = true;
    const s = this.socket;
    if (!s.destroyed) {
      if (streamError) s.write(streamError.toString());
      s.end('</stream:stream>');
      setTimeout(() => s.destroy(), 2000).unref();
    }
  }

  restartStream(): void {
    this.parser.reset();
  }

  bufferedBytes(): number {
    return this.socket.writableLength;
  }

  preAuthFeatures(): Element[] {
    if (this.secure) {
      // XEP-0440: which channel-binding types SCRAM-PLUS can use on this connection, standard ones first.
      const types = (['tls-exporter', 'tls-server-end-point', 'tls-unique'] as const).filter((t) => this.bindings[t]);
      if (types.length === 0) return [];
      return [el('sasl-channel-binding', { xmlns: 'urn:xmpp:sasl-cb:0' }, ...types.map((type) => el('channel-binding', { type })))];
    }
    return [el('starttls', { xmlns: NS.TLS }, this.opts.requireEncryption ? el('required') : undefined)];
  }

  offersSasl(): boolean {
    return this.secure || !this.opts.requireEncryption;
  }

  channelBinding(type: string): Buffer | undefined {
    return this.bindings[type as keyof typeof this.bindings];
  }
}
