// The <body/> wrapper of XEP-0124: parsing a request's wrapper and payloads with the stream parser's XML rules,
// and writing response wrappers, including terminal binding conditions (§17.2) and XEP-0206 stream errors.
import { Element, attrString } from '../xmpp/xml.js';
import { NS } from '../xmpp/namespaces.js';
import { StreamError } from '../xmpp/errors.js';
import { XmlStreamParser } from '../xmpp/xml-stream.js';

export const NS_HTTPBIND = 'http://jabber.org/protocol/httpbind';
export const NS_XBOSH = 'urn:xmpp:xbosh';

/** XEP-0124 §17.2 terminal binding conditions. */
export type BindingCondition =
  | 'bad-request'
  | 'host-gone'
  | 'host-unknown'
  | 'improper-addressing'
  | 'internal-server-error'
  | 'item-not-found'
  | 'other-request'
  | 'policy-violation'
  | 'remote-connection-failed'
  | 'remote-stream-error'
  | 'see-other-uri'
  | 'system-shutdown'
  | 'undefined-condition';

/** A request the connection manager refuses; the session (if any) ends with this condition. */
export class BindingError extends Error {
  constructor(
    readonly condition: BindingCondition,
    readonly text?: string,
  ) {
    super(text ? `${condition}: ${text}` : condition);
  }
}

export interface RequestBody {
  attrs: Record<string, string>;
  payloads: Element[];
}

const STANZAS = new Set(['message', 'presence', 'iq']);

/**
 * Parses one HTTP request body: exactly one <body xmlns='http://jabber.org/protocol/httpbind'/>, well-formed and
 * without DTDs, comments or processing instructions (the same rules as every other stream), nested no deeper than
 * a stanza on any transport may be.
 */
export function parseBody(text: string, maxChars: number): RequestBody {
  const empty = emptyBody(text);
  if (empty) return empty;
  const tops: Element[] = [];
  const parser = new XmlStreamParser(
    {
      element: (e) => {
        tops.push(e);
      },
    },
    { framed: true, maxStanzaSize: maxChars, maxDepth: 65 },
  );
  try {
    parser.write(text);
  } catch (err) {
    if (err instanceof StreamError) {
      if (err.condition === 'policy-violation' && /larger/.test(err.text ?? ''))
        throw new BindingError('policy-violation', err.text);
      throw new BindingError('bad-request', err.text ?? err.condition);
    }
    throw new BindingError('bad-request');
  }
  if (!parser.atElementBoundary)
    throw new BindingError('bad-request', 'the request body is not a complete XML element');
  if (tops.length !== 1) throw new BindingError('bad-request', 'the request must hold exactly one <body/>');
  const body = tops[0];
  if (body.name !== 'body' || body.attrs.xmlns !== NS_HTTPBIND)
    throw new BindingError('bad-request', `expected <body xmlns='${NS_HTTPBIND}'/>`);
  const payloads: Element[] = [];
  for (const c of body.children) {
    if (typeof c === 'string') continue;
    c.parent = null;
    // Stanzas inherit jabber:client when the client left the namespace out (as on WebSocket).
    if (c.attrs.xmlns === undefined && STANZAS.has(c.name)) c.attrs.xmlns = NS.CLIENT;
    payloads.push(c);
  }
  return { attrs: body.attrs as Record<string, string>, payloads };
}

// Most requests are empty polls. A wrapper with only plain attribute values (no entities, no whitespace that XML
// would normalize) and XML's own whitespace between them reads the same with a regular expression and a scan as with
// the full parser, at a fraction of the cost.
const EMPTY_BODY =
  /^[ \t\n\r]*(?:<\?xml[ \t\n\r][^<>?]*\?>[ \t\n\r]*)?<body(?:[ \t\n\r]+[A-Za-z_][\w.:-]*[ \t\n\r]*=[ \t\n\r]*(?:"[^"<&\t\n\r]*"|'[^'<&\t\n\r]*'))*[ \t\n\r]*(?:\/>|>[ \t\n\r]*<\/body[ \t\n\r]*>)[ \t\n\r]*$/;

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

function emptyBody(text: string): RequestBody | null {
  if (text.length > 4096 || !EMPTY_BODY.test(text)) return null;
  // The wrapper matched: its attributes are read by position (a poll is ~68,000 requests in a 15 s BOSH chat of 400
  // viewers; a match array per attribute was 6% of what it allocated). No '<body' comes before the wrapper's own.
  const attrs: Record<string, string> = {};
  let i = text.indexOf('<body') + 5;
  for (;;) {
    while (isSpace(text.charCodeAt(i))) i++;
    const c = text.charCodeAt(i);
    if (c === 0x2f /* / */ || c === 0x3e /* > */) break;
    let end = i;
    while (text.charCodeAt(end) !== 0x3d /* = */ && !isSpace(text.charCodeAt(end))) end++;
    const name = text.slice(i, end);
    i = text.indexOf('=', end) + 1;
    while (isSpace(text.charCodeAt(i))) i++;
    const close = text.indexOf(text[i]!, i + 1);
    if (name in attrs) return null; // duplicate attribute: let the parser report it
    attrs[name] = text.slice(i + 1, close);
    i = close + 1;
  }
  if (attrs.xmlns !== NS_HTTPBIND) return null;
  // A prefix the wrapper does not declare: let the parser report it (RFC 6120 §11.2).
  for (const k in attrs) {
    const i = k.indexOf(':');
    if (i > 0 && k.slice(0, i) !== 'xmlns' && k.slice(0, i) !== 'xml' && attrs[`xmlns:${k.slice(0, i)}`] === undefined)
      return null;
  }
  return { attrs, payloads: [] };
}

/**
 * An attribute in the urn:xmpp:xbosh namespace (XEP-0206 `xmpp:version`, `xmpp:restart`), whatever prefix the
 * client bound it to.
 */
export function xboshAttr(attrs: Record<string, string>, local: string): string | undefined {
  for (const k in attrs) {
    if (k.startsWith('xmlns:') && attrs[k] === NS_XBOSH) {
      const v = attrs[`${k.slice(6)}:${local}`];
      if (v !== undefined) return v;
    }
  }
  return attrs[`xmpp:${local}`];
}

/** A response wrapper around already serialized payloads. */
export function responseBody(attrs: Record<string, string | undefined>, payload: string): string {
  const head = bodyHead(attrs);
  return payload ? `${head}>${payload}</body>` : `${head}/>`;
}

function bodyHead(attrs: Record<string, string | undefined>): string {
  return '<body' + attrString({ xmlns: NS_HTTPBIND, 'xmlns:stream': NS.STREAM, ...attrs });
}

/**
 * The same wrapper as bytes around payloads given as text and as bytes (a prepared stanza's runs): the bytes are
 * copied once into the response instead of being decoded to text, joined and encoded again. Text runs next to each
 * other are encoded together.
 */
export function responseBytes(
  attrs: Record<string, string | undefined>,
  payloads: ReadonlyArray<string | Buffer>,
): Buffer {
  if (payloads.length === 0) return Buffer.from(responseBody(attrs, ''));
  const chunks: Buffer[] = [];
  let text = bodyHead(attrs) + '>';
  for (const p of payloads) {
    if (typeof p === 'string') {
      text += p;
      continue;
    }
    if (text) chunks.push(Buffer.from(text));
    text = '';
    chunks.push(p);
  }
  chunks.push(Buffer.from(text + '</body>'));
  return Buffer.concat(chunks);
}

/** Payloads given as text and bytes, as one text (a terminating response, which is rare). */
export function payloadText(payloads: ReadonlyArray<string | Buffer>): string {
  let s = '';
  for (const p of payloads) s += typeof p === 'string' ? p : p.toString('utf8');
  return s;
}

/** A terminating response: after it the client must consider the session gone. */
export function terminateBody(condition?: BindingCondition, payload = ''): string {
  return responseBody({ type: 'terminate', condition }, payload);
}

/** XMPP stream errors that have a binding condition of their own; every other one is a remote-stream-error. */
const DIRECT: Record<string, BindingCondition> = {
  'host-unknown': 'host-unknown',
  'host-gone': 'host-gone',
  'improper-addressing': 'improper-addressing',
  'system-shutdown': 'system-shutdown',
};

/** The terminate response for a session that ends with (or without) an XMPP stream error (XEP-0206, remote-stream-error). */
export function streamErrorBody(streamError: Element | undefined, pending: string): string {
  if (!streamError) return terminateBody(undefined, pending);
  const first = streamError.children.find((c): c is Element => typeof c !== 'string');
  const direct = first ? DIRECT[first.name] : undefined;
  if (direct) return terminateBody(direct, pending);
  return terminateBody('remote-stream-error', pending + streamError.toString());
}

/** Compares dotted BOSH versions ("1.6" < "1.11"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number(x) || 0);
  const pb = b.split('.').map((x) => Number(x) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}
