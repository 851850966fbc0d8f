// Shared by the archive end-to-end tests: @xmpp/client users, joining, sending a burst of messages and waiting for
// their reflections, and XEP-0313 queries that collect the forwarded results and the <fin/>.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { connectClient, xml, type Stanza, type TestClient } from '../helpers/xmpp-client.js';
import { encodeRoomDir } from '../../src/storage/archive.js';

export { xml, type Stanza, type TestClient };

export const HOST = 'room.localhost';
export const MUC = 'http://jabber.org/protocol/muc';
export const MUC_USER = 'http://jabber.org/protocol/muc#user';
export const MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
export const MAM = 'urn:xmpp:mam:2';
export const RSM = 'http://jabber.org/protocol/rsm';
export const SID = 'urn:xmpp:sid:0';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function user(service: string, name: string, resource = 'web'): Promise<TestClient> {
  return connectClient({ service, domain: 'localhost', username: name, password: 'pw', resource });
}

export async function viewer(service: string): Promise<TestClient> {
  return connectClient({ service, domain: 'anon.localhost' });
}

const codes = (s: Stanza): string[] =>
  (s.getChild('x', MUC_USER)?.getChildren('status') ?? []).map((x: Stanza) => x.attrs.code);

/** Joins and waits for self-presence and the subject (the end of history). Returns the history messages. */
export async function joinRoom(
  c: TestClient,
  room: string,
  nick: string,
  history?: Record<string, string>,
): Promise<Stanza[]> {
  const before = c.received.length;
  await c.send(
    xml(
      'presence',
      { to: `${room}@${HOST}/${nick}` },
      xml('x', { xmlns: MUC }, history ? xml('history', history) : undefined),
    ),
  );
  await c.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${room}@${HOST}/${nick}` && codes(s).includes('110'),
    10000,
    `self-presence in ${room}`,
  );
  await c.waitFor(
    (s) =>
      s.is('message') && !!s.getChild('subject') && !s.getChild('body') && s.attrs.from?.startsWith(`${room}@${HOST}`),
    10000,
    'subject',
  );
  return c.received.slice(before).filter((s) => s.is('message') && !!s.getChild('delay', 'urn:xmpp:delay'));
}

export function configure(c: TestClient, room: string, fields: Record<string, string>): Promise<Stanza> {
  const x = xml(
    'x',
    { xmlns: 'jabber:x:data', type: 'submit' },
    xml('field', { var: 'FORM_TYPE' }, xml('value', {}, 'http://jabber.org/protocol/muc#roomconfig')),
    ...Object.entries(fields).map(([k, v]) => xml('field', { var: k }, xml('value', {}, v))),
  );
  return c.iq(xml('iq', { type: 'set', to: `${room}@${HOST}` }, xml('query', { xmlns: MUC_OWNER }, x)));
}

/** Sends `bodies` as groupchat messages and waits until the sender got every reflection. Returns their stanza-ids. */
export async function say(
  c: TestClient,
  room: string,
  bodies: string[],
  extra: () => Stanza[] = () => [],
): Promise<string[]> {
  for (const b of bodies)
    await c.send(xml('message', { to: `${room}@${HOST}`, type: 'groupchat' }, xml('body', {}, b), ...extra()));
  const ids: string[] = [];
  for (const b of bodies) {
    const r = await c.waitFor(
      (s) =>
        s.is('message') &&
        s.attrs.type === 'groupchat' &&
        s.getChildText('body') === b &&
        !s.getChild('delay', 'urn:xmpp:delay'),
      20000,
      `reflection of ${b}`,
    );
    ids.push(r.getChild('stanza-id', SID)?.attrs.id);
  }
  return ids;
}

export interface MamItem {
  /** Archive id (result id). */
  id: string;
  body: string | undefined;
  from: string;
  stamp: string;
  /** Real JID in the forwarded message, if the reader may see it. */
  jid: string | undefined;
  message: Stanza;
}

export interface MamPage {
  items: MamItem[];
  complete: boolean;
  first: string | undefined;
  last: string | undefined;
  firstIndex: string | undefined;
  count: string | undefined;
}

export interface MamOptions {
  fields?: Record<string, string>;
  max?: number;
  after?: string;
  /** '' asks for the last page. */
  before?: string;
  index?: number;
  flip?: boolean;
  /** Query namespace (livechat's x-search uses its own). */
  ns?: string;
}

let qn = 0;

/** One MAM query to a room: result messages (in the order received) and the fin. Rejects with the iq error. */
export async function mam(c: TestClient, room: string, o: MamOptions = {}): Promise<MamPage> {
  const queryid = `q${++qn}`;
  const ns = o.ns ?? MAM;
  const form = o.fields
    ? xml(
        'x',
        { xmlns: 'jabber:x:data', type: 'submit' },
        xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, ns)),
        ...Object.entries(o.fields).map(([k, v]) => xml('field', { var: k }, xml('value', {}, v))),
      )
    : undefined;
  const rsm =
    o.max !== undefined || o.after !== undefined || o.before !== undefined || o.index !== undefined
      ? xml(
          'set',
          { xmlns: RSM },
          o.max !== undefined ? xml('max', {}, String(o.max)) : undefined,
          o.after !== undefined ? xml('after', {}, o.after) : undefined,
          o.before !== undefined ? xml('before', {}, o.before) : undefined,
          o.index !== undefined ? xml('index', {}, String(o.index)) : undefined,
        )
      : undefined;
  const start = c.received.length;
  const res = await c.iq(
    xml(
      'iq',
      { type: 'set', to: `${room}@${HOST}` },
      xml('query', { xmlns: ns, queryid }, form, rsm, o.flip ? xml('flip-page') : undefined),
    ),
    15000,
  );
  const fin = res.getChild('fin', MAM);
  const items = c.received
    .slice(start)
    .map((s) => s.getChild('result', MAM))
    .filter((r): r is Stanza => !!r && r.attrs.queryid === queryid)
    .map((r) => {
      const fwd = r.getChild('forwarded', 'urn:xmpp:forward:0');
      const m = fwd.getChild('message');
      return {
        id: r.attrs.id,
        body: m.getChildText('body') ?? undefined,
        from: m.attrs.from,
        stamp: fwd.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp,
        jid: m.getChild('x', MUC_USER)?.getChild('item')?.attrs.jid,
        message: m,
      };
    });
  const set = fin?.getChild('set', RSM);
  return {
    items,
    complete: fin?.attrs.complete === 'true',
    first: set?.getChildText('first') ?? undefined,
    last: set?.getChildText('last') ?? undefined,
    firstIndex: set?.getChild('first')?.attrs.index,
    count: set?.getChildText('count') ?? undefined,
  };
}

/** Pages forward through the whole archive (max per page), as a client catching up would. */
export async function mamAll(
  c: TestClient,
  room: string,
  max = 100,
  fields?: Record<string, string>,
): Promise<MamItem[]> {
  const all: MamItem[] = [];
  let after: string | undefined;
  for (let guard = 0; guard < 10000; guard++) {
    const p = await mam(c, room, { max, after, fields });
    all.push(...p.items);
    if (p.complete || !p.last) break;
    after = p.last;
  }
  return all;
}

export function errorCondition(err: unknown): string | undefined {
  return (err as { condition?: string }).condition;
}

/** The segment files of a room's archive on disk (what pruning deletes). */
export async function segmentFiles(dataDir: string, room: string): Promise<string[]> {
  try {
    return (await readdir(join(dataDir, 'archive', encodeRoomDir(`${room}@${HOST}`))))
      .filter((n) => n.endsWith('.seg'))
      .sort();
  } catch {
    return [];
  }
}

export async function stopAll(clients: TestClient[]): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
}
