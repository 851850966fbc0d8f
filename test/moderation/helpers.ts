// Client-side MUC steps shared by the live-stream moderation tests; they only use the wire, so the same script
// runs against our server and against livechat's Prosody.
import { xml, type Stanza, type TestClient } from '../helpers/xmpp-client.js';
import type { ChatTarget } from '../helpers/livechat-prosody.js';

export const MUC = 'http://jabber.org/protocol/muc';
export const MUC_USER = 'http://jabber.org/protocol/muc#user';
export const MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
export const MUC_ADMIN = 'http://jabber.org/protocol/muc#admin';
export const DATA = 'jabber:x:data';
export const DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const STANZA_ERR = 'urn:ietf:params:xml:ns:xmpp-stanzas';
export const TIMEOUT = 15_000;

let seq = 0;
export const nextId = (p = 'm') => `${p}${++seq}-${Math.random().toString(36).slice(2, 8)}`;

export const roomJid = (t: ChatTarget, room: string) => `${room}@${t.mucHost}`;

export function statusCodes(s: Stanza): string[] {
  return (s.getChild('x', MUC_USER)?.getChildren('status') ?? []).map((x: Stanza) => String(x.attrs.code));
}

/** `{ type, condition }` of a stanza error, or undefined. */
export function stanzaError(s: Stanza): { type: string; condition: string } | undefined {
  const e = s.getChild('error');
  if (!e) return undefined;
  const cond = e.children.find(
    (c: Stanza | string) =>
      typeof c !== 'string' && (c as Stanza).attrs.xmlns === STANZA_ERR && (c as Stanza).name !== 'text',
  ) as Stanza | undefined;
  return { type: String(e.attrs.type), condition: cond?.name ?? '' };
}

/** Joins and resolves with the self-presence (status 110). */
export async function join(c: TestClient, room: string, nick: string, extra: Stanza[] = []): Promise<Stanza> {
  const to = `${room}/${nick}`;
  await c.send(xml('presence', { to }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '0' })), ...extra));
  return c.waitFor(
    (s) => s.is('presence') && s.attrs.from === to && (statusCodes(s).includes('110') || s.attrs.type === 'error'),
    TIMEOUT,
    `self-presence in ${room}`,
  );
}

/** Owner: fetch the config form, submit `fields` (everything else kept as is); resolves with the iq result. */
export async function configure(
  c: TestClient,
  room: string,
  fields: Record<string, string | string[]>,
): Promise<Stanza> {
  const x = xml(
    'x',
    { xmlns: DATA, type: 'submit' },
    xml('field', { var: 'FORM_TYPE' }, xml('value', {}, 'http://jabber.org/protocol/muc#roomconfig')),
    ...Object.entries(fields).map(([v, val]) =>
      xml('field', { var: v }, ...(Array.isArray(val) ? val : [val]).map((one: string) => xml('value', {}, one))),
    ),
  );
  return c.iq(xml('iq', { type: 'set', to: room, id: nextId('cfg') }, xml('query', { xmlns: MUC_OWNER }, x)), TIMEOUT);
}

/** The room's config form fields: var → values. */
export async function configForm(
  c: TestClient,
  room: string,
): Promise<Map<string, { type?: string; values: string[] }>> {
  const r = await c.iq(
    xml('iq', { type: 'get', to: room, id: nextId('cfg') }, xml('query', { xmlns: MUC_OWNER })),
    TIMEOUT,
  );
  const form = r.getChild('query', MUC_OWNER)?.getChild('x', DATA);
  const out = new Map<string, { type?: string; values: string[] }>();
  for (const f of form?.getChildren('field') ?? []) {
    out.set(String(f.attrs.var), {
      type: f.attrs.type as string | undefined,
      values: f.getChildren('value').map((v: Stanza) => v.getText()),
    });
  }
  return out;
}

/** disco#info of the room: features and room-info form fields. */
export async function discoInfo(
  c: TestClient,
  room: string,
): Promise<{ features: string[]; fields: Map<string, string[]> }> {
  const r = await c.iq(
    xml('iq', { type: 'get', to: room, id: nextId('disco') }, xml('query', { xmlns: DISCO_INFO })),
    TIMEOUT,
  );
  const q = r.getChild('query', DISCO_INFO)!;
  const fields = new Map<string, string[]>();
  for (const x of q.getChildren('x', DATA)) {
    for (const f of x.getChildren('field'))
      fields.set(
        String(f.attrs.var),
        f.getChildren('value').map((v: Stanza) => v.getText()),
      );
  }
  return { features: q.getChildren('feature').map((f: Stanza) => String(f.attrs.var)), fields };
}

/** Sends a groupchat message; returns its id. */
export async function say(
  c: TestClient,
  room: string,
  body: string,
  attrs: Record<string, string> = {},
  extra: Stanza[] = [],
): Promise<string> {
  const id = nextId();
  await c.send(xml('message', { type: 'groupchat', to: room, id }, xml('body', attrs, body), ...extra));
  return id;
}

/** The echo or error for message `id` sent by `c`. */
export function outcome(c: TestClient, id: string): Promise<Stanza> {
  return c.waitFor((s) => s.is('message') && s.attrs.id === id, TIMEOUT, `echo or error for ${id}`);
}

/** A groupchat message with `body` arriving at `c`. */
export function bodyArrives(c: TestClient, body: string, timeoutMs = TIMEOUT): Promise<Stanza> {
  return c.waitFor(
    (s) => s.is('message') && s.attrs.type === 'groupchat' && s.getChildText('body') === body,
    timeoutMs,
    `message "${body}"`,
  );
}

/** Whether a stanza matching `pred` has arrived at `c` (now, without waiting). */
export function hasReceived(c: TestClient, pred: (s: Stanza) => boolean): boolean {
  return c.received.some(pred);
}

/** Sends a marker message from `from` and waits until `to` got it: everything sent before it has been routed. */
export async function barrier(from: TestClient, to: TestClient[], room: string): Promise<void> {
  const body = `barrier ${nextId('b')}`;
  await say(from, room, body);
  await Promise.all(to.map((c) => bodyArrives(c, body)));
}

/** The 104 status message every occupant gets after a configuration change. */
export function config104(c: TestClient, room: string): Promise<Stanza> {
  return c.waitFor(
    (s) => s.is('message') && s.attrs.from === room && statusCodes(s).includes('104'),
    TIMEOUT,
    `104 from ${room}`,
  );
}

/** Sets an occupant's role (moderator action). */
export function setRole(c: TestClient, room: string, nick: string, role: string, reason?: string): Promise<Stanza> {
  return c.iq(
    xml(
      'iq',
      { type: 'set', to: room, id: nextId('role') },
      xml('query', { xmlns: MUC_ADMIN }, xml('item', { nick, role }, ...(reason ? [xml('reason', {}, reason)] : []))),
    ),
    TIMEOUT,
  );
}

/** Sets a bare JID's affiliation. */
export function setAffiliation(
  c: TestClient,
  room: string,
  jid: string,
  affiliation: string,
  reason?: string,
): Promise<Stanza> {
  return c.iq(
    xml(
      'iq',
      { type: 'set', to: room, id: nextId('aff') },
      xml(
        'query',
        { xmlns: MUC_ADMIN },
        xml('item', { jid, affiliation }, ...(reason ? [xml('reason', {}, reason)] : [])),
      ),
    ),
    TIMEOUT,
  );
}

export const bare = (jid: string) => jid.split('/')[0];

/** The room-assigned stanza-id of a groupchat message. */
export function stanzaIdOf(s: Stanza, room: string): string | undefined {
  return s.getChildren('stanza-id', 'urn:xmpp:sid:0').find((x: Stanza) => x.attrs.by === room)?.attrs.id as
    string | undefined;
}

/** Moderator retracts a message the way livechat's front-end does (XEP-0425 v0, fasten apply-to). */
export function moderateV0(c: TestClient, room: string, stanzaId: string, reason?: string): Promise<Stanza> {
  return c.iq(
    xml(
      'iq',
      { type: 'set', to: room, id: nextId('mod') },
      xml(
        'apply-to',
        { xmlns: 'urn:xmpp:fasten:0', id: stanzaId },
        xml(
          'moderate',
          { xmlns: 'urn:xmpp:message-moderate:0' },
          xml('retract', { xmlns: 'urn:xmpp:message-retract:0' }),
          ...(reason ? [xml('reason', {}, reason)] : []),
        ),
      ),
    ),
    TIMEOUT,
  );
}

/** A MAM (or x-search) query on the room; resolves with the forwarded messages, or rejects with the iq error. */
export async function mamQuery(
  c: TestClient,
  room: string,
  ns: string,
  fields: Record<string, string> | null,
): Promise<Stanza[]> {
  const queryid = nextId('q');
  const form =
    fields === null
      ? []
      : [
          xml(
            'x',
            { xmlns: DATA, type: 'submit' },
            xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, ns)),
            ...Object.entries(fields).map(([k, v]) => xml('field', { var: k }, xml('value', {}, v))),
          ),
        ];
  const start = c.received.length;
  await c.iq(
    xml('iq', { type: 'set', to: room, id: nextId('mam') }, xml('query', { xmlns: ns, queryid }, ...form)),
    TIMEOUT,
  );
  return c.received
    .slice(start)
    .filter((s) => s.is('message') && s.getChild('result', 'urn:xmpp:mam:2')?.attrs.queryid === queryid)
    .map((s) =>
      s.getChild('result', 'urn:xmpp:mam:2')!.getChild('forwarded', 'urn:xmpp:forward:0')!.getChild('message')!,
    );
}

/** The stanza error condition of a rejected iq (from @xmpp/client's StanzaError). */
export function iqErrorCondition(e: unknown): string {
  return String((e as { condition?: string })?.condition ?? (e as Error)?.message ?? e);
}

/** A self-presence (110) for `nick` whose role is `role`. */
export function selfRole(c: TestClient, room: string, nick: string, role: string): Promise<Stanza> {
  return c.waitFor(
    (s) =>
      s.is('presence') &&
      s.attrs.from === `${room}/${nick}` &&
      statusCodes(s).includes('110') &&
      s.getChild('x', MUC_USER)?.getChild('item')?.attrs.role === role,
    TIMEOUT,
    `${nick} becoming ${role}`,
  );
}
