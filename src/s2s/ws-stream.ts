// One XEP-0468 WebSocket as an S2S stream, for the session code in incoming.ts/outgoing.ts (which also drive TCP).
// Framing is the only thing that differs from TCP, and livechat's quirks are absorbed here:
// - RFC 7395-style `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing-server'/>` and `<close/>` frames, or a legacy
//   first frame holding an unclosed `<stream:stream>` header (then the whole socket is parsed as one stream rooted
//   in that header, frames need not be standalone, and `</stream:stream>` ends it);
// - frames using the `db:` and `stream:` prefixes without declaring them;
// - whitespace-only frames.
// What we send is always standalone: one element per text frame, prefixes declared, jabber:server on stanzas.
import type { Writable } from 'node:stream';
import type { WebSocket, RawData } from 'ws';
import { el, type Element } from '../xmpp/xml.js';
import { NS } from '../xmpp/namespaces.js';
import { StreamError, streamErrorElement, type StreamErrorCondition } from '../xmpp/errors.js';
import { XmlStreamParser } from '../xmpp/xml-stream.js';
import { CorkedWrites } from '../xmpp/write-coalescing.js';
import type { S2sStreamHandler, S2sTransport } from './stream.js';

export const NS_FRAMING_SERVER = 'urn:ietf:params:xml:ns:xmpp-framing-server';
const LEGACY_HEADER = /^\s*(?:<\?xml\s[^?]*\?>)?\s*<stream:stream[\s>]/;

export interface WsS2sStreamOptions {
  remoteAddress: string;
  secure: boolean;
  maxStanzaSize: number;
  maxSendBufferBytes: number;
  /** Outgoing sockets: a WebSocket ping this often keeps proxies (nginx's 60 s default) from closing them. */
  pingIntervalMs?: number;
  /** The writable to hold per tick so a fan-out's frames leave together. */
  corkTarget?: Writable;
  /** Incoming sockets: the count of frames that came unmasked. */
  unmaskedFrames?: () => number;
}

export class WsS2sStream implements S2sTransport {
  readonly kind = 'websocket' as const;
  readonly canStartTls = false;
  readonly tlsSocket = null;
  authClockStart = Date.now();
  lastActivity = Date.now();
  handler!: S2sStreamHandler;
  /** How the peer framed its stream: decided by its first non-blank frame. */
  framing: 'rfc' | 'legacy' | null = null;
  private parser: XmlStreamParser | null = null;
  private dead = false;
  private ping: NodeJS.Timeout | null = null;
  private cork = new CorkedWrites();

  constructor(
    private ws: WebSocket,
    private opts: WsS2sStreamOptions,
  ) {
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    // A peer's pings keep its socket open (livechat pings its outgoing sockets); our own pings' pongs do not, so
    // an outgoing stream with no traffic is still closed after the idle timeout.
    ws.on('ping', () => {
      this.lastActivity = Date.now();
    });
    ws.on('close', () => this.onSocketClosed());
    ws.on('error', () => {
      /* 'close' follows */
    });
    if (opts.pingIntervalMs) {
      this.ping = setInterval(() => {
        if (ws.readyState === ws.OPEN) ws.ping();
      }, opts.pingIntervalMs);
      this.ping.unref();
    }
  }

  get remoteAddress(): string {
    return this.opts.remoteAddress;
  }
  get secure(): boolean {
    return this.opts.secure;
  }
  get closed(): boolean {
    return this.dead;
  }
  get unmaskedFrames(): number {
    return this.opts.unmaskedFrames?.() ?? 0;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.dead) return;
    this.lastActivity = Date.now();
    if (isBinary) return this.fail('unsupported-encoding', 'XMPP over WebSocket uses text frames');
    const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)).toString('utf8');
    if (text.length > this.opts.maxStanzaSize)
      return this.fail('policy-violation', `frame larger than ${this.opts.maxStanzaSize} bytes`);
    try {
      if (!this.parser) {
        if (!text.trim()) return; // keepalive before the stream starts
        this.parser = this.makeParser(LEGACY_HEADER.test(text) ? 'legacy' : 'rfc');
      }
      this.parser.write(text);
      if (this.framing === 'rfc' && !this.parser.atElementBoundary)
        throw new StreamError('not-well-formed', 'a frame must hold whole elements');
    } catch (err) {
      const e = err instanceof StreamError ? err : new StreamError('internal-server-error');
      this.fail(e.condition, e.text);
    }
  }

  private makeParser(framing: 'rfc' | 'legacy'): XmlStreamParser {
    this.framing = framing;
    const limits = { maxStanzaSize: this.opts.maxStanzaSize, defaultNs: NS.SERVER, maxDepth: 64 };
    if (framing === 'legacy') {
      return new XmlStreamParser(
        {
          streamOpened: (attrs) => this.handler.opened(attrs),
          element: (e) => this.handler.element(e),
          streamClosed: () => this.close(undefined, 'peer closed the stream'),
        },
        { ...limits, framed: false },
      );
    }
    return new XmlStreamParser(
      { element: (e) => this.onFramedElement(e) },
      { ...limits, framed: true, rootAttrs: { 'xmlns:stream': NS.STREAM, 'xmlns:db': NS.DIALBACK } },
    );
  }

  private onFramedElement(e: Element): void {
    const ns = e.attrs.xmlns;
    if (ns === NS_FRAMING_SERVER || ns === NS.FRAMING) {
      if (e.name === 'open') {
        // The session code reads the attributes a TCP stream header would carry.
        const { xmlns: _framing, ...rest } = e.attrs as Record<string, string>;
        return this.handler.opened({ ...rest, xmlns: NS.SERVER, 'xmlns:stream': NS.STREAM, 'xmlns:db': NS.DIALBACK });
      }
      if (e.name === 'close') return this.close(undefined, 'peer closed the stream');
      return this.fail('unsupported-stanza-type', `unknown framing element <${e.name}/>`);
    }
    this.handler.element(e);
  }

  private onSocketClosed(): void {
    this.stopPing();
    if (this.dead) return;
    this.dead = true;
    this.handler.closed('connection lost');
  }

  open(attrs: Record<string, string | undefined>): void {
    this.send(el('open', { xmlns: NS_FRAMING_SERVER, ...attrs }).toString());
  }

  write(xml: string): boolean {
    if (this.dead) return false;
    return this.send(standaloneFrame(xml));
  }

  private send(frame: string): boolean {
    const ws = this.ws;
    if (this.dead || ws.readyState !== ws.OPEN) return false;
    this.lastActivity = Date.now();
    if (this.opts.corkTarget) this.cork.hold(this.opts.corkTarget);
    ws.send(frame);
    if (ws.bufferedAmount > this.opts.maxSendBufferBytes) {
      this.fail('resource-constraint', 'peer is not reading');
      return false;
    }
    return true;
  }

  fail(condition: StreamErrorCondition, text?: string): void {
    this.close(streamErrorElement(condition, text), `${condition}${text ? `: ${text}` : ''}`);
  }

  close(streamError?: Element, reason = 'closed'): void {
    if (this.dead) return;
    const ws = this.ws;
    if (ws.readyState === ws.OPEN) {
      if (streamError) ws.send(streamError.toString());
      ws.send(el('close', { xmlns: NS_FRAMING_SERVER }).toString());
      ws.close(1000);
      // A peer that never answers the closing handshake is cut off.
      setTimeout(() => ws.terminate(), 2000).unref();
    } else ws.terminate();
    this.dead = true;
    this.stopPing();
    this.handler.closed(reason);
  }

  private stopPing(): void {
    if (this.ping) clearInterval(this.ping);
    this.ping = null;
  }

  /** No stream restarts: WebSocket S2S has neither STARTTLS nor SASL (TLS ends in front of the HTTP server). */
  restart(): void {
    /* nothing to reset */
  }
  upgradeServer(): Promise<boolean> {
    return Promise.resolve(false);
  }
  upgradeClient(): Promise<boolean> {
    return Promise.resolve(false);
  }
}

/**
 * Makes one serialized top-level element a frame a peer can parse alone: declares the `stream:`/`db:` prefix it
 * uses and puts unprefixed elements without a namespace in jabber:server.
 */
export function standaloneFrame(xml: string): string {
  if (xml.charCodeAt(0) !== 60 /* < */) return xml;
  const end = xml.search(/[\s/>]/);
  if (end < 0) return xml;
  const name = xml.slice(1, end);
  const headEnd = xml.indexOf('>');
  const head = headEnd < 0 ? xml : xml.slice(0, headEnd);
  let add = '';
  const colon = name.indexOf(':');
  if (colon < 0) {
    if (!/\sxmlns=/.test(head)) add = ` xmlns="${NS.SERVER}"`;
  } else {
    const prefix = name.slice(0, colon);
    const uri = prefix === 'db' ? NS.DIALBACK : prefix === 'stream' ? NS.STREAM : null;
    if (uri && !head.includes(`xmlns:${prefix}=`)) add = ` xmlns:${prefix}="${uri}"`;
  }
  return add ? xml.slice(0, end) + add + xml.slice(end) : xml;
}
