// Building XEP-0313 result messages (XEP-0297 forwarded + XEP-0203 delay), the <fin/> and archive metadata.
import { randomBytes } from 'node:crypto';
import { parse } from 'ltx';
import { LRUCache } from 'lru-cache';
import { Element, el, escapeXML } from '../xmpp/xml.js';
import { PreSerializedElement } from '../xmpp/prepared.js';
import { NS } from '../xmpp/namespaces.js';
import type { ArchiveResult, ArchivedMessage } from '../storage/types.js';
import { formatDateTime } from './datetime.js';
import { MAM_NS } from './features.js';

export interface ResultOptions {
  /** Add the sender's real JID (muc#user <item jid>) — only for readers the room's whois setting allows. */
  showRealJid: boolean;
  /** A user's own archive: the stored message as it was sent or received (to/from kept). */
  personal?: boolean;
}

/** A message of a user's own archive, as stored. */
function personalStanza(item: ArchivedMessage): Element {
  let msg: Element;
  try {
    msg = parse(item.xml);
  } catch {
    msg = el('message', { type: 'chat' });
  }
  msg.attrs.xmlns = NS.CLIENT;
  return msg;
}

/**
 * The archived message as a reader gets it: no `to`, `from` = the occupant JID, any stored muc#user <x>
 * removed, the archive's stanza-id (by = the room), and the real JID only when allowed.
 */
export function archivedStanza(item: ArchivedMessage, archiveJid: string, opts: ResultOptions): Element {
  let msg: Element;
  try {
    msg = parse(item.xml);
  } catch {
    msg = el('message', { type: 'groupchat' });
  }
  delete msg.attrs.to;
  msg.attrs.xmlns = NS.CLIENT;
  if (!msg.attrs.from) msg.attrs.from = `${archiveJid}/${item.nick}`;
  msg.children = msg.children.filter(
    (c) =>
      typeof c === 'string' ||
      !(
        (c.name === 'x' && c.attrs.xmlns === NS.MUC_USER) ||
        (c.name === 'stanza-id' && c.attrs.xmlns === NS.STANZA_ID)
      ),
  );
  msg.append(el('stanza-id', { xmlns: NS.STANZA_ID, id: item.id, by: archiveJid }));
  if (opts.showRealJid && item.realJid) {
    msg.append(el('x', { xmlns: NS.MUC_USER }, el('item', { jid: item.realJid })));
  }
  return msg;
}

/**
 * The <forwarded/> of a room's archived message, built and serialized once per message and view (with or without
 * real JIDs): every viewer joining a live asks for the same last page, so only the enclosing <message><result/> is
 * new per reader. A retraction keeps the id but changes the stored XML, which the entry is checked against.
 */
const forwardedCache = new LRUCache<string, { xml: string; forwarded: PreSerializedElement }>({ max: 1000 });

function forwarded(item: ArchivedMessage, archiveJid: string, opts: ResultOptions): Element {
  const build = () =>
    el(
      'forwarded',
      { xmlns: NS.FORWARD },
      el('delay', { xmlns: NS.DELAY, stamp: formatDateTime(item.ts) }),
      opts.personal ? personalStanza(item) : archivedStanza(item, archiveJid, opts),
    );
  if (opts.personal) return build();
  const key = `${opts.showRealJid ? 'j' : 'a'}${archiveJid}\0${item.id}`;
  const hit = forwardedCache.get(key);
  if (hit && hit.xml === item.xml) return hit.forwarded;
  const f = PreSerializedElement.wrap(build());
  forwardedCache.set(key, { xml: item.xml, forwarded: f });
  return f;
}

/** Result message ids: unique within the process and cheap (no random source per message). */
const idPrefix = `${randomBytes(4).toString('hex')}-`;
let idCounter = 0;
const resultId = (): string => idPrefix + (++idCounter).toString(36);

/**
 * One result message: <message to from><result queryid id><forwarded><delay/><message/></forwarded></result></message>.
 * A room's message comes with its client serialization made from the cached <forwarded/> by concatenation (the
 * stanza carries xmlns="jabber:client", which client streams then send as is; a server stream re-serializes it).
 */
export function buildResultMessage(
  to: string,
  queryid: string | undefined,
  item: ArchivedMessage,
  archiveJid: string,
  opts: ResultOptions,
  resultNs = MAM_NS,
): Element {
  const fwd = forwarded(item, archiveJid, opts);
  const resultAttrs: Record<string, string> = { xmlns: resultNs };
  if (queryid !== undefined) resultAttrs.queryid = queryid;
  resultAttrs.id = item.id;
  const result = new Element('result', resultAttrs).cnode(fwd).up();
  const id = resultId();
  if (!(fwd instanceof PreSerializedElement) || fwd.xml === undefined)
    return new Element('message', { to, from: archiveJid, id }).cnode(result).up();
  const h = headsFor(to, queryid, archiveJid, resultNs);
  const xml = h.head + id + h.mid + escapeXML(item.id) + '">' + fwd.xml + '</result></message>';
  return PreSerializedElement.withText(
    new Element('message', { xmlns: NS.CLIENT, to, from: archiveJid, id }).cnode(result).up(),
    xml,
  );
}

/** The escaped text around a result's ids, the same for every message of one query: made once per query. */
let heads = { to: '', queryid: undefined as string | undefined, archiveJid: '', resultNs: '', head: '', mid: '' };
function headsFor(to: string, queryid: string | undefined, archiveJid: string, resultNs: string) {
  const h = heads;
  if (h.to === to && h.queryid === queryid && h.archiveJid === archiveJid && h.resultNs === resultNs && h.head)
    return h;
  const q = queryid === undefined ? '' : ` queryid="${escapeXML(queryid)}"`;
  heads = {
    to,
    queryid,
    archiveJid,
    resultNs,
    head: `<message xmlns="${NS.CLIENT}" to="${escapeXML(to)}" from="${escapeXML(archiveJid)}" id="`,
    mid: `"><result xmlns="${escapeXML(resultNs)}"${q} id="`,
  };
  return heads;
}

/** The RSM <set/> describing a page (XEP-0059 §2.6): first (with index when known), last, count. */
export function rsmSet(result: ArchiveResult): Element {
  const set = el('set', { xmlns: NS.RSM });
  if (result.first !== undefined) set.append(el('first', { index: result.index }, result.first));
  if (result.last !== undefined) set.append(el('last', {}, result.last));
  if (result.count !== undefined) set.append(el('count', {}, String(result.count)));
  return set;
}

/** <fin complete='true'?> with the RSM set; complete when no more results exist in the paging direction. */
export function buildFinPayload(result: ArchiveResult): Element {
  return el('fin', { xmlns: MAM_NS, complete: result.complete ? 'true' : undefined }, rsmSet(result));
}

/** The iq result ending a query. */
export function buildFin(iq: Element, result: ArchiveResult): Element {
  return el('iq', { type: 'result', id: iq.attrs.id, to: iq.attrs.from, from: iq.attrs.to }, buildFinPayload(result));
}

/** XEP-0313 §6 archive metadata: first and last message ids and times (empty for an empty archive). */
export function buildMetadata(first: ArchivedMessage | undefined, last: ArchivedMessage | undefined): Element {
  const m = el('metadata', { xmlns: MAM_NS });
  if (first && last) {
    m.append(el('start', { id: first.id, timestamp: formatDateTime(first.ts) }));
    m.append(el('end', { id: last.id, timestamp: formatDateTime(last.ts) }));
  }
  return m;
}
