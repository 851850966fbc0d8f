// RFC 6120 XMPP over TCP for clients: a real XML stream (<stream:stream>), STARTTLS, or TLS from the first byte
// (XEP-0368), over the TCP XML stream it shares with S2S (xml-socket.ts). The session core is the same one
// WebSocket and BOSH carry.
import type net from 'node:net';
import type tls from 'node:tls';
import { Element, el } from '../xml.js';
import { NS } from '../namespaces.js';
import { XmlSocket } from './xml-socket.js';
import type { WriteCoalescer } from '../write-coalescing.js';
import type { StreamHeader, StreamTransport, TransportHandler } from '../transport.js';
import type { CertificateStore } from '../../certs/index.js';
import { channelBindings } from '../../certs/index.js';

export interface TcpTransportOptions {
  certs: CertificateStore;
  maxStanzaSize: number;
  requireEncryption: boolean;
  /** Holds writes (write-coalescing.ts); by default until the end of the tick only. */
  coalescer?: WriteCoalescer;
  /** The socket is already TLS (direct TLS port). */
  tlsSocket?: tls.TLSSocket;
}

export class TcpTransport implements StreamTransport {
  readonly kind = 'tcp' as const;
  handler!: TransportHandler;
  private xs: XmlSocket;
  private bindings: ReturnType<typeof channelBindings> = {};

  constructor(
    socket: net.Socket,
    private opts: TcpTransportOptions,
  ) {
    this.xs = new XmlSocket(
      socket,
      { maxStanzaSize: opts.maxStanzaSize, defaultNs: NS.CLIENT, coalescer: opts.coalescer },
      {
        opened: (attrs) => this.onStreamOpened(attrs),
        element: (e) => this.onElement(e),
        streamClosed: () => this.handler.streamClosed(),
        error: (c, t) => this.handler.streamError(c, t),
        lost: () => this.handler.transportClosed(),
        activity: () => this.handler.touch?.(),
      },
      opts.tlsSocket,
    );
    if (opts.tlsSocket) this.bindings = channelBindings(opts.tlsSocket);
  }

  get remoteAddress(): string {
    return this.xs.remoteAddress;
  }
  get secure(): boolean {
    return this.xs.secure;
  }

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
    if (await this.xs.upgradeServer((raw) => this.opts.certs.wrapServerSocket(raw))) {
      this.bindings = channelBindings(this.xs.tlsSocket!);
    } else {
      this.handler.transportClosed();
    }
  }

  sendOpen(h: StreamHeader): void {
    this.sendRaw(
      `<?xml version='1.0'?><stream:stream xmlns="${NS.CLIENT}" xmlns:stream="${NS.STREAM}" from="${h.from}" id="${h.id}" version="${h.version}" xml:lang="${h.lang}">`,
    );
  }

  sendRaw(xml: string, deferrable = false): void {
    this.xs.write(xml, deferrable);
  }

  close(streamError?: Element): void {
    this.xs.close(streamError);
  }

  restartStream(): void {
    this.xs.restart();
  }

  bufferedBytes(): number {
    return this.xs.bufferedBytes();
  }

  preAuthFeatures(): Element[] {
    if (this.secure) {
      // XEP-0440: which channel-binding types SCRAM-PLUS can use on this connection, standard ones first.
      const types = (['tls-exporter', 'tls-server-end-point', 'tls-unique'] as const).filter((t) => this.bindings[t]);
      if (types.length === 0) return [];
      return [
        el(
          'sasl-channel-binding',
          { xmlns: 'urn:xmpp:sasl-cb:0' },
          ...types.map((type) => el('channel-binding', { type })),
        ),
      ];
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
