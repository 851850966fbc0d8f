// Building XEP-0313 result messages (XEP-0297 forwarded + XEP-0203 delay), the <fin/> and archive metadata.
import { parse } from 'ltx';
import { LRUCache } from 'lru-cache';
import { Element, el } from '../xmpp/xml.js';
import { PreSerializedElement } from '../xmpp/prepared.js';
import { NS } from '../xmpp/namespaces.js';
import type { ArchiveResult, ArchivedMessage } from '../storage/types.js';
import { formatDateTime } from './datetime.js';
import { MAM_NS } from './features.js';
import { ForwardedPart, MamResult, ResultHeads } from './result-stanza.js';

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
 * new per reader. Keyed by the archive id alone (ids carry their room's salt; the room is checked anyway), so a
 * lookup builds no key string. A retraction keeps the id but changes the stored XML, which the entry is checked
 * against.
 */
interface CachedForwarded {
  archiveJid: string;
  xml: string;
  anon?: ForwardedPart;
  real?: ForwardedPart;
}
const forwardedCache = new LRUCache<string, CachedForwarded>({ max: 1000 });

function forwarded(item: ArchivedMessage, archiveJid: string, opts: ResultOptions): ForwardedPart {
  const build = () =>
    el(
      'forwarded',
      { xmlns: NS.FORWARD },
      el('delay', { xmlns: NS.DELAY, stamp: formatDateTime(item.ts) }),
      opts.personal ? personalStanza(item) : archivedStanza(item, archiveJid, opts),
    );
  if (opts.personal) return new ForwardedPart(build(), item.id, undefined, false);
  let hit = forwardedCache.get(item.id);
  if (!hit || hit.xml !== item.xml || hit.archiveJid !== archiveJid) {
    hit = { archiveJid, xml: item.xml };
    forwardedCache.set(item.id, hit);
  }
  const view = opts.showRealJid ? 'real' : 'anon';
  let part = hit[view];
  if (!part) {
    const tree = PreSerializedElement.wrap(build());
    part = hit[view] = new ForwardedPart(tree, item.id, tree.xml, true);
  }
  return part;
}

/** What every result of one query shares: the requester (`to`), the archive (`from`), the queryid. */
export function resultHeads(to: string, queryid: string | undefined, archiveJid: string): ResultHeads {
  return new ResultHeads(to, archiveJid, queryid, MAM_NS);
}

/**
 * One result message, <message to from><result queryid id><forwarded><delay/><message/></forwarded></result></message>,
 * as a prepared stanza for the requester's session (text, or bytes around the shared <forwarded/>). The archive is
 * the heads' `from`.
 */
export function buildResult(heads: ResultHeads, item: ArchivedMessage, opts: ResultOptions): MamResult {
  return new MamResult(heads, forwarded(item, heads.from, opts));
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
