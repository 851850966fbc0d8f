// A WebSocket connection whose socket lives in the edge process, as the session sees it: the same StreamTransport
// as the in-process WebSocket (RFC 7395 framing, stanza size limit, stream errors), writing through the edge link.
import { Element, el } from '../xmpp/xml.js';
import { NS } from '../xmpp/namespaces.js';
import { StreamError } from '../xmpp/errors.js';
import { XmlStreamParser } from '../xmpp/xml-stream.js';
import type { StreamHeader, StreamTransport, TransportHandler } from '../xmpp/transport.js';

/** What a transport needs from the link to its edge process. */
export interface EdgeWriter {
  /** Queues a text frame for the connection; returns its size in bytes. */
  send(id: number, text: string): number;
  close(id: number, code: number): void;
  ping(id: number): void;
  /** Counts flushes to the edge: bytes queued in an earlier one have left this process. */
  readonly flushes: number;
}

export class EdgeTransport implements StreamTransport {
  readonly kind = 'websocket' as const;
  handler!: TransportHandler;
  private parser: XmlStreamParser;
  private closedByServer = false;
  /** The edge no longer holds this connection (closed, or the edge process died). */
  private gone = false;
  /** Bytes the edge last reported holding for this connection. */
  edgeBytes = 0;
  /** Bytes queued since the last flush to the edge, and which flush that was. */
  private queued = 0;
  private queuedAt = -1;

  constructor(
    private link: EdgeWriter,
    readonly id: number,
    readonly remoteAddress: string,
    readonly secure: boolean,
    private maxStanzaSize: number,
  ) {
    this.parser = new XmlStreamParser(
      { element: (e) => this.onElement(e) },
      { framed: true, maxStanzaSize, maxDepth: 64 },
    );
  }

  // ---- from the edge ----

  onText(payload: Buffer): void {
    if (this.closedByServer) return;
    // Any message is a sign of life, whitespace keepalives included.
    this.handler.touch?.();
    if (payload.length > this.maxStanzaSize) {
      this.handler.streamError('policy-violation', `stanza larger than ${this.maxStanzaSize} bytes`);
      return;
    }
    try {
      this.parser.write(payload.toString('utf8'));
      if (!this.parser.atElementBoundary)
        throw new StreamError('not-well-formed', 'a WebSocket message must hold whole elements');
    } catch (err) {
      const e = err instanceof StreamError ? err : new StreamError('internal-server-error');
      this.handler.streamError(e.condition, e.text);
    }
  }

  onBinary(): void {
    if (this.closedByServer) return;
    this.handler.streamError('unsupported-encoding', 'XMPP over WebSocket uses text messages');
  }

  /** ws refused a frame in the edge (1009 too large, 1007 not UTF-8); the edge waits for our stream error. */
  onRefused(code: number): void {
    if (this.closedByServer) return;
    if (code === 1009) this.handler.streamError('policy-violation', `stanza larger than ${this.maxStanzaSize} bytes`);
    else this.handler.streamError('not-well-formed', 'the message is not valid UTF-8');
  }

  /** The connection is gone: closed by the peer, or lost with the edge process. */
  onGone(): void {
    if (this.gone) return;
    this.gone = true;
    if (!this.closedByServer) this.handler.transportClosed();
    this.closedByServer = true;
  }

  private onElement(e: Element): void {
    if (e.attrs.xmlns === NS.FRAMING) {
      if (e.name === 'open') this.handler.streamOpened(e.attrs);
      else if (e.name === 'close') this.handler.streamClosed();
      else this.handler.streamError('unsupported-stanza-type', `unknown framing element <${e.name}/>`);
      return;
    }
    // RFC 7395 §3.3.3: a bare <message/> is in the client namespace.
    if (e.attrs.xmlns === undefined && (e.name === 'message' || e.name === 'presence' || e.name === 'iq'))
      e.attrs.xmlns = NS.CLIENT;
    this.handler.element(e);
  }

  // ---- StreamTransport ----

  sendOpen(h: StreamHeader): void {
    this.sendRaw(
      el('open', { xmlns: NS.FRAMING, from: h.from, id: h.id, version: h.version, 'xml:lang': h.lang }).toString(),
    );
  }

  sendRaw(xml: string): void {
    if (this.closedByServer || this.gone) return;
    this.write(xml);
  }

  private write(xml: string): void {
    const n = this.link.send(this.id, xml);
    if (this.queuedAt !== this.link.flushes) {
      this.queuedAt = this.link.flushes;
      this.queued = 0;
    }
    this.queued += n;
  }

  close(streamError?: Element): void {
    if (this.closedByServer) return;
    this.closedByServer = true;
    if (this.gone) return;
    if (streamError) this.write(streamError.toString());
    this.write(el('close', { xmlns: NS.FRAMING }).toString());
    this.link.close(this.id, 1000);
  }

  /** What the edge reported holding, plus what this process has queued for it and not yet flushed. */
  bufferedBytes(): number {
    return this.edgeBytes + (this.queuedAt === this.link.flushes ? this.queued : 0);
  }

  ping(): void {
    if (!this.closedByServer && !this.gone) this.link.ping(this.id);
  }
}
