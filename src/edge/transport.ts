// A WebSocket connection whose socket lives in the edge process, as the session sees it: the same StreamTransport
// as the in-process WebSocket (RFC 7395 framing, stanza size limit, stream errors), writing through the edge link.
import type { Element } from '../xmpp/xml.js';
import { XmlStreamParser } from '../xmpp/xml-stream.js';
import {
  CLOSE_XML,
  framedElement,
  framedParserOptions,
  openXml,
  readTextMessage,
  refusedMessage,
} from '../xmpp/websocket-framing.js';
import type { StreamHeader, StreamTransport, TransportHandler } from '../xmpp/transport.js';

/** What a transport needs from the link to its edge process. */
export interface EdgeWriter {
  /**
   * Queues a text frame for the connection; returns its size in bytes. `deferrable`: the edge may hold it for the
   * coalescing window (a room's fan-out).
   */
  send(id: number, text: string, deferrable?: boolean): number;
  /** Queues a text frame whose payload is `head`, `mid` and `tail` (bytes a fan-out shares); returns its size. */
  sendSplice(id: number, head: Buffer | string, mid: Buffer, tail: Buffer | string, deferrable?: boolean): number;
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
      { element: (e) => framedElement(e, this.handler) },
      framedParserOptions(maxStanzaSize),
    );
  }

  // ---- from the edge ----

  onText(payload: Buffer): void {
    if (this.closedByServer) return;
    // Any message is a sign of life, whitespace keepalives included.
    this.handler.touch?.();
    readTextMessage(this.parser, payload, this.maxStanzaSize, this.handler);
  }

  onBinary(): void {
    if (this.closedByServer) return;
    this.handler.streamError('unsupported-encoding', 'XMPP over WebSocket uses text messages');
  }

  /** ws refused a frame in the edge (1009 too large, 1007 not UTF-8); the edge waits for our stream error. */
  onRefused(code: number): void {
    if (this.closedByServer) return;
    refusedMessage(code, this.maxStanzaSize, this.handler);
  }

  /** The connection is gone: closed by the peer, or lost with the edge process. */
  onGone(): void {
    if (this.gone) return;
    this.gone = true;
    if (!this.closedByServer) this.handler.transportClosed();
    this.closedByServer = true;
  }

  // ---- StreamTransport ----

  sendOpen(h: StreamHeader): void {
    this.sendRaw(openXml(h));
  }

  sendRaw(xml: string, deferrable = false): void {
    if (this.closedByServer || this.gone) return;
    this.write(xml, deferrable);
  }

  /** A room's fan-out: the shared bytes copied into the pipe, no string built and encoded per recipient. */
  sendSplice(head: Buffer | string, mid: Buffer, tail: Buffer | string, deferrable = false): void {
    if (this.closedByServer || this.gone) return;
    this.queuedBytes(this.link.sendSplice(this.id, head, mid, tail, deferrable));
  }

  private write(xml: string, deferrable = false): void {
    this.queuedBytes(this.link.send(this.id, xml, deferrable));
  }

  private queuedBytes(n: number): void {
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
    this.write(CLOSE_XML);
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
