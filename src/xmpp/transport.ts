// What a session needs from a transport (WebSocket, BOSH, TCP). Transports know framing and limits, not chat.
import type { Element } from './xml.js';

export interface StreamHeader {
  from: string;
  id: string;
  version: string;
  lang: string;
}

export interface StreamTransport {
  readonly kind: 'websocket' | 'bosh' | 'tcp';
  readonly remoteAddress: string;
  /** Encrypted (TLS), or considered so (WebSocket behind an HTTPS proxy). */
  readonly secure: boolean;
  /** Sends the stream header (WebSocket `<open/>`, TCP `<stream:stream>`, BOSH session creation response). */
  sendOpen(header: StreamHeader): void;
  /**
   * Sends a serialized top-level element (already in the client namespace when it is a stanza). `deferrable`: a
   * fan-out delivery that may wait up to the write-coalescing window on a busy connection (write-coalescing.ts).
   */
  sendRaw(xml: string, deferrable?: boolean): void;
  /**
   * Sends a serialized top-level element given as three runs of UTF-8 bytes written one after the other (a prepared
   * stanza's head, the recipient's address, its tail: the fan-out copies bytes instead of encoding a string per
   * recipient). The head may come as text (an answer's, made per send with its request's id), and so may the tail (a
   * stanza kept compact, whose bytes are not kept): the transport encodes them into its frame. Optional: without it,
   * callers send the same element as a string through sendRaw.
   */
  sendSplice?(head: Buffer | string, mid: Buffer, tail: Buffer | string, deferrable?: boolean): void;
  /** Ends the stream: optional stream error, then the close framing, then the connection. */
  close(streamError?: Element): void;
  /** Bytes waiting to be written; used to drop clients that do not read. */
  bufferedBytes(): number;
  /** TCP: the next stream header starts a new parser (after TLS or SASL). */
  restartStream?(): void;
  /** Stream features the transport itself adds before authentication (STARTTLS). */
  preAuthFeatures?(): Element[];
  /** False while the transport refuses authentication (TLS required but not yet on). */
  offersSasl?(): boolean;
  /** Channel binding data for SCRAM-PLUS, by type (tls-exporter, tls-server-end-point). */
  channelBinding?(type: string): Buffer | undefined;
  /** Keep-alive below XMPP (WebSocket ping frame), when the transport has one. */
  ping?(): void;
}

/** What a transport calls on the session it carries. */
export interface TransportHandler {
  streamOpened(attrs: Record<string, string>): void;
  element(el: Element): void;
  streamClosed(): void;
  /** A parse or framing failure: the session sends the stream error and closes. */
  streamError(condition: import('./errors.js').StreamErrorCondition, text?: string): void;
  /** The connection is gone (no further writes possible). Not called after the session itself closed it. */
  transportClosed(): void;
  /** Any sign of life below XMPP (a WebSocket pong) counts as activity. */
  touch?(): void;
}
