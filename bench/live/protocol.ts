// Minimal string-level XMPP for the load clients. RFC 7395 puts exactly one stanza (or framing element) in each
// WebSocket message, so the client only ever needs the name and a few attributes of the first tag, plus a
// substring test here and there. No DOM: the harness must cost far less CPU than the servers it measures.

export const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

/** The first tag of a stanza, e.g. `<iq xmlns='jabber:client' type='result' id='a1' from='x'>` (up to and including the first `>`). */
export function headOf(s: string): string {
  const end = s.indexOf('>');
  return end < 0 ? s : s.slice(0, end + 1);
}

/** Element name of the first tag, without namespace prefix handling beyond `stream:`. */
export function nameOf(head: string): string {
  let i = 1;
  while (i < head.length) {
    const c = head.charCodeAt(i);
    // space, tab, newline, '>' or '/'
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 62 || c === 47) break;
    i++;
  }
  return head.slice(1, i);
}

/** Attribute value from a head, either quote style; entities are left as they are (we only compare our own values). */
export function attrOf(head: string, name: string): string | undefined {
  let from = 0;
  for (let guard = 0; guard < 64; guard++) {
    const i = head.indexOf(name + '=', from);
    if (i < 0) return undefined;
    const before = head.charCodeAt(i - 1);
    if (before === 32 || before === 9 || before === 10 || before === 13) {
      const q = head[i + name.length + 1];
      const start = i + name.length + 2;
      const end = head.indexOf(q!, start);
      if (end < 0) return undefined;
      return head.slice(start, end);
    }
    from = i + 1;
  }
  return undefined;
}

/**
 * A copy of `s` that keeps nothing else alive. V8 makes a substring a view of the string it was cut from, so a nick
 * kept for the whole run would keep its ~1 KB presence stanza with it: 40,000 of them in a 400-viewer storm, which
 * the garbage collector then copies and promotes.
 */
export function detached(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

const NEEDS_ESCAPE = /[&'<"]/;

export function escAttr(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s; // almost always: one scan instead of four replacements
  return s.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

export function unescAttr(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s
    .replace(/&apos;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export const open = (to: string): string => `<open xmlns='${NS_FRAMING}' to='${to}' version='1.0'/>`;
export const close = (): string => `<close xmlns='${NS_FRAMING}'/>`;
export const authAnonymous = (): string => `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>`;
export const bind = (id: string): string =>
  `<iq xmlns='jabber:client' type='set' id='${id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`;
export const session = (id: string): string =>
  `<iq xmlns='jabber:client' type='set' id='${id}'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`;

const NS_SM = 'urn:xmpp:sm:3';
export const smEnable = (): string => `<enable xmlns='${NS_SM}' resume='true'/>`;
export const smRequest = (): string => `<r xmlns='${NS_SM}'/>`;
export const smAnswer = (handled: number): string => `<a xmlns='${NS_SM}' h='${handled}'/>`;

export const discoInfo = (id: string, to: string, node?: string): string =>
  `<iq xmlns='jabber:client' type='get' id='${id}' to='${escAttr(to)}'><query xmlns='http://jabber.org/protocol/disco#info'` +
  (node ? ` node='${node}'/>` : '/>') +
  `</iq>`;
export const rosterGet = (id: string): string =>
  `<iq xmlns='jabber:client' type='get' id='${id}'><query xmlns='jabber:iq:roster'/></iq>`;
export const vcardGet = (id: string, to: string): string =>
  `<iq xmlns='jabber:client' type='get' id='${id}' to='${escAttr(to)}'><vCard xmlns='vcard-temp'/></iq>`;
export const carbonsEnable = (id: string): string =>
  `<iq xmlns='jabber:client' type='set' id='${id}'><enable xmlns='urn:xmpp:carbons:2'/></iq>`;
export const initialPresence = (): string =>
  `<presence xmlns='jabber:client'><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://conversejs.org' ver='benchlive'/></presence>`;

/**
 * The join. ConverseJS asks a room that advertises MAM for no history (`maxstanzas='0'`) and pages its archive
 * instead; `withHistory` joins with the room's default history (`<x/>` alone).
 */
export const joinPresence = (occupantJid: string, withHistory: boolean): string =>
  `<presence xmlns='jabber:client' to='${escAttr(occupantJid)}'>` +
  (withHistory ? `<x xmlns='${NS_MUC}'/>` : `<x xmlns='${NS_MUC}'><history maxstanzas='0'/></x>`) +
  `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://conversejs.org' ver='benchlive'/></presence>`;
export const nickPresence = (occupantJid: string): string =>
  `<presence xmlns='jabber:client' to='${escAttr(occupantJid)}'/>`;
export const leavePresence = (occupantJid: string): string =>
  `<presence xmlns='jabber:client' to='${escAttr(occupantJid)}' type='unavailable'/>`;

/** XEP-0313 query for the last `max` messages of a room (RSM <before/> = last page), as ConverseJS does on open. */
export const mamLast = (id: string, room: string, queryId: string, max: number): string =>
  `<iq xmlns='jabber:client' type='set' id='${id}' to='${room}'><query xmlns='urn:xmpp:mam:2' queryid='${queryId}'>` +
  `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field></x>` +
  `<set xmlns='http://jabber.org/protocol/rsm'><max>${max}</max><before/></set></query></iq>`;

/** Instant-room configuration (XEP-0045 §10.1.2), sent by the streamer if the room was just created. */
export const instantRoom = (id: string, room: string, fields?: Record<string, string[]>): string =>
  `<iq xmlns='jabber:client' type='set' id='${id}' to='${room}'><query xmlns='http://jabber.org/protocol/muc#owner'>` +
  (fields
    ? `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>` +
      Object.entries(fields)
        .map(
          ([k, vs]) => `<field var='${escAttr(k)}'>${vs.map((v) => `<value>${escAttr(v)}</value>`).join('')}</field>`,
        )
        .join('') +
      '</x>'
    : `<x xmlns='jabber:x:data' type='submit'/>`) +
  '</query></iq>';

/**
 * A groupchat message whose body carries the send time, so every receiver can compute delivery latency without
 * any shared state. The padding makes it the size of a typical chat line.
 */
export const chatMessage = (id: string, room: string, tag: string, sentAt: number): string =>
  `<message xmlns='jabber:client' type='groupchat' id='${id}' to='${room}'><body>bench|${tag}|${sentAt.toFixed(3)}|` +
  `what a great stream, hello everyone!</body><origin-id xmlns='urn:xmpp:sid:0' id='${id}'/></message>`;

/** Send time from a message produced by chatMessage, or NaN. */
export function sentAtOf(stanza: string): number {
  const i = stanza.indexOf('<body>bench|');
  if (i < 0) return NaN;
  const a = stanza.indexOf('|', i + 12);
  const b = stanza.indexOf('|', a + 1);
  if (a < 0 || b < 0) return NaN;
  return Number(stanza.slice(a + 1, b));
}

/** True if the stanza carries a MUC status code (e.g. 110 self, 201 created, 303 nick change). */
export function hasStatus(stanza: string, code: number): boolean {
  return stanza.indexOf(`code='${code}'`) >= 0 || stanza.indexOf(`code="${code}"`) >= 0;
}

/** Short error condition name from an error stanza (e.g. item-not-found), for error tallies. */
export function errorCondition(stanza: string): string {
  const i = stanza.indexOf('xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"');
  const j = i >= 0 ? i : stanza.indexOf("xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'");
  if (j < 0) return 'unknown';
  const lt = stanza.lastIndexOf('<', j);
  return nameOf(stanza.slice(lt, j)).trim() || 'unknown';
}
