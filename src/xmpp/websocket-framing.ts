// RFC 7395 framing as both WebSocket transports see it (in-process, and the edge process's connections): one
// message holds whole elements, <open/> and <close/> in the framing namespace start and end the stream, and bare
// stanzas are in the client namespace. The transports differ only in where the socket lives.
import type { Element } from './xml.js';
import { attrString, el } from './xml.js';
import { NS } from './namespaces.js';
import { StreamError } from './errors.js';
import type { StreamParserOptions, XmlStreamParser } from './xml-stream.js';
import type { StreamHeader, TransportHandler } from './transport.js';

/** Parser options per stanza size limit, shared by every connection. */
const parserOpts = new Map<number, StreamParserOptions>();
export function framedParserOptions(maxStanzaSize: number): StreamParserOptions {
  let o = parserOpts.get(maxStanzaSize);
  if (!o) parserOpts.set(maxStanzaSize, (o = Object.freeze({ framed: true, maxStanzaSize, maxDepth: 64 })));
  return o;
}

/** Feeds one text message to the parser; a message that is too large or not whole elements is a stream error. */
export function readTextMessage(
  parser: XmlStreamParser,
  payload: Buffer,
  maxStanzaSize: number,
  handler: TransportHandler,
): void {
  if (payload.length > maxStanzaSize) {
    handler.streamError('policy-violation', `stanza larger than ${maxStanzaSize} bytes`);
    return;
  }
  try {
    parser.write(payload.toString('utf8'));
    if (!parser.atElementBoundary)
      throw new StreamError('not-well-formed', 'a WebSocket message must hold whole elements');
  } catch (err) {
    const e = err instanceof StreamError ? err : new StreamError('internal-server-error');
    handler.streamError(e.condition, e.text);
  }
}

/** The stream error for a message ws refused before we saw it: 1009 too large, 1007 not UTF-8 (fatal in XML). */
export function refusedMessage(code: number | undefined, maxStanzaSize: number, handler: TransportHandler): void {
  if (code === 1009) handler.streamError('policy-violation', `stanza larger than ${maxStanzaSize} bytes`);
  else if (code === 1007) handler.streamError('not-well-formed', 'the message is not valid UTF-8');
}

/** A whole element from the parser: framing elements open or close the stream, stanzas go to the session. */
export function framedElement(e: Element, handler: TransportHandler): void {
  if (e.attrs.xmlns === NS.FRAMING) {
    if (e.name === 'open') handler.streamOpened(e.attrs);
    else if (e.name === 'close') handler.streamClosed();
    else handler.streamError('unsupported-stanza-type', `unknown framing element <${e.name}/>`);
    return;
  }
  // RFC 7395 §3.3.3: stanzas carry their namespace themselves; a bare <message/> is in the client namespace.
  if (e.attrs.xmlns === undefined && (e.name === 'message' || e.name === 'presence' || e.name === 'iq'))
    e.attrs.xmlns = NS.CLIENT;
  handler.element(e);
}

const OPEN_START = `<open xmlns="${NS.FRAMING}"`;

/** The server's `<open/>`, written as text: two per login, no element built for them. */
export function openXml(h: StreamHeader): string {
  return OPEN_START + attrString({ from: h.from, id: h.id, version: h.version, 'xml:lang': h.lang }) + '/>';
}

export const CLOSE_XML = el('close', { xmlns: NS.FRAMING }).toString();
