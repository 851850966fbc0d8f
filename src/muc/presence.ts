// Building occupant presences: the muc#user <x/> with status codes in the order Prosody and XEP-0045 examples
// use (<destroy/>, codes, <item/>, then 110), and the occupant's own presence payload.
import { parse } from 'ltx';
import { Element, el } from '../xmpp/xml.js';
import { MUC_NS, type Affiliation, type Role } from './types.js';

export interface ItemDetails {
  /** New nick, for 303 nick changes. */
  nick?: string;
  actor?: { nick?: string; jid?: string };
  reason?: string;
}

export interface MucUserOptions {
  affiliation: Affiliation;
  role: Role;
  /**
   * Real JIDs, present only in the views allowed to see them: one <item/> per session of a multi-session occupant
   * (XEP-0045 §7.2.9), or a single <item/> without a jid when empty or absent.
   */
  jids?: readonly string[];
  codes?: Iterable<string>;
  self?: boolean;
  details?: ItemDetails;
  destroy?: Element;
  /** Show the actor's real JID (moderator view). */
  showActorJid?: boolean;
}

export function mucUserX(o: MucUserOptions): Element {
  const x = el('x', { xmlns: MUC_NS.USER });
  if (o.destroy) x.append(o.destroy);
  for (const c of o.codes ?? []) if (c !== '110') x.append(el('status', { code: c }));
  const jids = o.jids?.length ? o.jids : [undefined];
  for (const jid of jids) {
    const item = el('item', { affiliation: o.affiliation, jid, nick: o.details?.nick, role: o.role });
    const actor = o.details?.actor;
    if (actor) item.append(el('actor', { nick: actor.nick, jid: o.showActorJid ? actor.jid : undefined }));
    if (o.details?.reason) item.append(el('reason', {}, o.details.reason));
    x.append(item);
  }
  if (o.self) x.append(el('status', { code: '110' }));
  return x;
}

/** The children of a client's presence that the room repeats to others (show, status, caps, avatar hash…). */
export function presencePayload(presence: Element | undefined): Element[] {
  if (!presence) return [];
  const out: Element[] = [];
  for (const c of presence.children) {
    if (typeof c === 'string') continue;
    const ns = c.attrs.xmlns;
    if (c.name === 'x' && (ns === MUC_NS.MUC || ns === MUC_NS.USER)) continue;
    if (c.name === 'occupant-id' && ns === MUC_NS.OCCUPANT_ID) continue;
    if (c.name === 'error') continue;
    out.push(c);
  }
  return out;
}

/**
 * What a session's presence is kept as while it sits in a room: only the payload others see (presencePayload), as
 * one shared, read-only element per distinct payload (a client's viewers mostly send the same caps), instead of the
 * parsed stanza — its addresses, the join's <x/>, and the whole message text its strings are slices of.
 */
const stored = new Map<string, Element>();
const STORED_MAX = 5000;
const NO_PAYLOAD = new Element('presence');

export function storedPresence(stanza: Element): Element {
  const payload = presencePayload(stanza);
  if (payload.length === 0) return NO_PAYLOAD;
  let xml = '';
  for (const c of payload) xml += c.toString();
  let e = stored.get(xml);
  if (!e) {
    // Parsed from the serialization: fresh strings that share nothing with the client's message.
    e = parse(`<presence>${xml}</presence>`);
    if (stored.size >= STORED_MAX) stored.clear(); // a cache: emptied when full rather than tracking use
    stored.set(xml, e);
  }
  return e;
}

/** Unavailable presences repeat only the status text (issue 505), not show or caps. */
export function leavePayload(presence: Element | undefined): Element[] {
  if (!presence) return [];
  return presence.getChildren('status').filter((s) => !s.attrs.xmlns || s.attrs.xmlns === 'jabber:client');
}
