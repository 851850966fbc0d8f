// XEP-0313 on a room's archive, independent of the room itself: the room only decides who may read, who sees
// real JIDs and who may filter by real JID or occupant-id, and supplies a way to send stanzas.
import { Element, el } from '../xmpp/xml.js';
import { StanzaError } from '../xmpp/errors.js';
import { parseJid, bareString } from '../xmpp/jid.js';
import type { ArchiveQuery, ArchiveResult, ArchivedMessage, WithFilter } from '../storage/types.js';
import { ArchiveItemNotFoundError } from '../storage/types.js';
import { MAM_NS, MAM_SEARCH_NS } from './features.js';
import { MamQuery, mamQueryForm, parseMamQuery } from './query.js';
import { buildFinPayload, buildMetadata, buildResult, resultHeads } from './results.js';
import type { MamResult } from './result-stanza.js';

export interface MamAccess {
  /** May read the archive: whoever may join the room (XEP-0313 §5.1.2). */
  canRead: boolean;
  /** Sees senders' real JIDs (the room's whois setting allows it to this reader). */
  showRealJids: boolean;
  /** May filter by real JID or occupant-id, and use livechat's x-search (owners and admins). */
  canFilterByJid: boolean;
}

/** What the handler needs from an archive (RoomArchive from src/storage implements it). */
export interface MamArchive {
  query(q: ArchiveQuery): Promise<ArchiveResult>;
  bounds(): Promise<{ first?: ArchivedMessage; last?: ArchivedMessage }>;
}

export interface MamOptions {
  /** The room's bare JID: `from` of results, `by` of stanza-ids, base of occupant JIDs. */
  archiveJid: string;
  /** Largest page served (client max is clamped to it). */
  maxPage?: number;
  /** Page size when the client gives no max. */
  defaultPage?: number;
  /** A user's own archive (XEP-0313 on an account): results are the messages as sent, `to` and `from` kept. */
  personal?: boolean;
}

/**
 * Delivers a result message to its requester (`result.to`): the server hands it to the requester's session as a
 * prepared stanza (router.deliverPrepared), which writes it as text or bytes as its transport takes them.
 */
export type SendResult = (result: MamResult) => void;

/** Turns `with` / x-search `from` into a sender filter, enforcing who may filter by what. */
function senderFilter(q: MamQuery, access: MamAccess, archiveJid: string): WithFilter | undefined {
  const w: WithFilter = {};
  let any = false;
  const room = parseJid(archiveJid);
  const roomBare = room ? bareString(room) : archiveJid;
  for (const raw of [q.with, q.from]) {
    if (raw === undefined) continue;
    const j = parseJid(raw)!;
    if (bareString(j) === roomBare) {
      // The occupant JID (room/nick) is public in the room; the room's bare JID filters nothing.
      if (j.resource) {
        w.nick = j.resource;
        any = true;
      }
      continue;
    }
    if (!access.canFilterByJid) throw new StanzaError('forbidden', 'only owners and admins may filter by real JID');
    w.realJid = j.toString();
    any = true;
  }
  if (q.occupantId !== undefined) {
    if (!access.canFilterByJid) throw new StanzaError('forbidden', 'only owners and admins may filter by occupant-id');
    w.occupantId = q.occupantId;
    any = true;
  }
  return any ? w : undefined;
}

/** The archive query for a parsed MAM query (exported for tests and for callers with their own transport). */
export function toArchiveQuery(q: MamQuery, access: MamAccess, opts: MamOptions): ArchiveQuery {
  const maxPage = opts.maxPage ?? 100;
  const aq: ArchiveQuery = { max: Math.min(q.max ?? opts.defaultPage ?? maxPage, maxPage) };
  if (q.start !== undefined) aq.start = q.start;
  if (q.end !== undefined) aq.end = q.end;
  if (q.afterId !== undefined) aq.afterId = q.afterId;
  if (q.beforeId !== undefined) aq.beforeId = q.beforeId;
  if (q.ids) aq.ids = q.ids;
  if (q.after !== undefined) aq.after = q.after;
  if (q.before !== undefined) aq.before = q.before;
  if (q.index !== undefined) aq.index = q.index;
  const w = senderFilter(q, access, opts.archiveJid);
  if (w) aq.with = w;
  return aq;
}

/**
 * Answers a MAM iq addressed to a room and returns the payload of the iq result: the query form (get query),
 * archive metadata (get metadata), or <fin/> after the result messages were sent with `send` (set query).
 * Throws StanzaError (forbidden, bad-request, feature-not-implemented, item-not-found, service-unavailable).
 */
export async function runMamQuery(
  iq: Element,
  archive: MamArchive,
  access: MamAccess,
  send: SendResult,
  opts: MamOptions,
): Promise<Element> {
  const q = parseMamQuery(iq);
  if (!access.canRead) throw new StanzaError('forbidden', "you may not read this room's archive");
  if (q.search && !access.canFilterByJid) throw new StanzaError('forbidden', 'archive search is for owners and admins');
  if (q.kind === 'form') return el('query', { xmlns: q.search ? MAM_SEARCH_NS : MAM_NS }, mamQueryForm(q.search));
  // livechat's search names whom to look for in its form: without one it is a malformed request, and a form
  // naming nobody finds nothing (it is not a way to read the whole archive).
  if (q.search && !iq.getChildElements()[0]?.getChild('x', 'jabber:x:data'))
    throw new StanzaError('bad-request', 'archive search needs a form', 'modify');
  if (q.search && q.from === undefined && q.occupantId === undefined)
    return buildFinPayload({ items: [], complete: true });
  if (q.kind === 'metadata') {
    const { first, last } = await archive.bounds();
    return buildMetadata(first, last);
  }
  const aq = toArchiveQuery(q, access, opts);
  let result: ArchiveResult;
  try {
    result = await archive.query(aq);
  } catch (err) {
    if (err instanceof ArchiveItemNotFoundError)
      throw new StanzaError('item-not-found', `unknown archive id ${err.id}`);
    throw err;
  }
  const items = q.flipPage ? result.items.slice().reverse() : result.items;
  // Results always use urn:xmpp:mam:2, x-search included, so clients handle both alike (as livechat does).
  const heads = resultHeads(iq.attrs.from!, q.queryid, opts.archiveJid);
  const view = { showRealJid: access.showRealJids, personal: opts.personal };
  for (const item of items) send(buildResult(heads, item, view));
  return buildFinPayload(result);
}

/** runMamQuery wrapped in the iq result (type result, addresses swapped). */
export async function handleMamIq(
  iq: Element,
  archive: MamArchive,
  access: MamAccess,
  send: SendResult,
  opts: MamOptions,
): Promise<Element> {
  const payload = await runMamQuery(iq, archive, access, send, opts);
  return el('iq', { type: 'result', id: iq.attrs.id, to: iq.attrs.from, from: iq.attrs.to }, payload);
}
