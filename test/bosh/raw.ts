// A bare-bones BOSH client over fetch for protocol tests: exact bodies in, raw response text out, so tests can
// check what the wire carries (repeated rids, bad bodies) where a client library would hide it.
import { parse, type Element } from 'ltx';

export const HTTPBIND = 'http://jabber.org/protocol/httpbind';

export interface RawResponse {
  status: number;
  text: string;
  headers: Headers;
  body: Element;
}

export async function post(url: string, text: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const r = await fetch(url, {
    method: 'POST',
    body: text,
    headers: { 'content-type': 'text/xml; charset=utf-8', ...headers },
  });
  const body = await r.text();
  return { status: r.status, text: body, headers: r.headers, body: parse(body) as Element };
}

export function attrs(a: Record<string, string | number | undefined>): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}='${v}'`)
    .join('');
}

export class RawBosh {
  sid = '';
  rid = 1000 + Math.floor(Math.random() * 1e9);
  jid = '';
  constructor(readonly url: string) {}

  /** Session creation request; returns the response. */
  async create(extra: Record<string, string | number | undefined> = {}): Promise<RawResponse> {
    const a = {
      rid: this.rid,
      to: 'anon.localhost',
      'xml:lang': 'en',
      wait: 10,
      hold: 1,
      ver: '1.6',
      'xmpp:version': '1.0',
      'xmlns:xmpp': 'urn:xmpp:xbosh',
      xmlns: HTTPBIND,
      ...extra,
    };
    const r = await post(this.url, `<body${attrs(a)}/>`);
    this.sid = r.body.attrs.sid ?? '';
    return r;
  }

  /** The text of a request with the next rid (or a given one) and payloads. */
  body(inner = '', extra: Record<string, string | number | undefined> = {}, rid?: number): string {
    const a = { rid: rid ?? ++this.rid, sid: this.sid, xmlns: HTTPBIND, ...extra };
    return inner ? `<body${attrs(a)}>${inner}</body>` : `<body${attrs(a)}/>`;
  }

  send(inner = '', extra: Record<string, string | number | undefined> = {}): Promise<RawResponse> {
    return post(this.url, this.body(inner, extra));
  }

  /** Creation, SASL ANONYMOUS, restart, bind: an established anonymous session. */
  async login(extra: Record<string, string | number | undefined> = {}): Promise<string> {
    await this.create(extra);
    const auth = await this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>`);
    if (!auth.body.getChild('success')) throw new Error(`no SASL success: ${auth.text}`);
    const restart = await this.send('', {
      to: 'anon.localhost',
      'xmpp:restart': 'true',
      'xmlns:xmpp': 'urn:xmpp:xbosh',
    });
    if (!restart.body.getChild('features')) throw new Error(`no features after restart: ${restart.text}`);
    const bind = await this.send(
      `<iq xmlns='jabber:client' type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`,
    );
    this.jid = bind.body.getChild('iq')?.getChild('bind')?.getChildText('jid') ?? '';
    if (!this.jid) throw new Error(`no bind result: ${bind.text}`);
    return this.jid;
  }
}

/** Payload elements of a response body. */
export function payloads(r: RawResponse): Element[] {
  return r.body.children.filter((c): c is Element => typeof c !== 'string');
}

/**
 * Joins a MUC room as `occupant` (room@service/nick) over a logged-in session and polls until the self-presence came
 * (at most ten responses); throws if it did not.
 */
export async function enterRoom(b: RawBosh, occupant: string): Promise<void> {
  const seated = (r: RawResponse) => payloads(r).some((e) => e.name === 'presence' && e.attrs.from === occupant);
  let r = await b.send(
    `<presence xmlns='jabber:client' to='${occupant}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`,
  );
  for (let i = 0; i < 10 && !seated(r); i++) r = await b.send();
  if (!seated(r)) throw new Error(`no self-presence as ${occupant}`);
}
