// Temporary bans: a muc#admin ban (affiliation outcast) whose <item/> carries
// <expires xmlns='urn:livechat-xmpp:muc-temporary-ban:0' seconds='N'/> (or until='ISO date') is lifted by the room
// at that time, the affiliation going back to none. Expiries are kept in room.data, so they survive a restart;
// any other change of that JID's affiliation cancels the expiry. Clients that do not know the extension see an
// ordinary ban; the outcast list shows the expiry on the same element.
import { el, type Element } from '../../xmpp/xml.js';
import type { Room } from '../room.js';
import type { FeatureContext } from './util.js';

export const TEMP_BAN_NS = 'urn:livechat-xmpp:muc-temporary-ban:0';
const MAX_SECONDS = 10 * 365 * 24 * 3600;

type Expiries = Record<string, number>;
const timers = new WeakMap<Room, NodeJS.Timeout>();

function expiriesOf(room: Room): Expiries {
  let e = room.data.tempBans as Expiries | undefined;
  if (!e) room.data.tempBans = e = {};
  return e;
}

/** Lifts what is due and arms one timer for the next expiry. */
function schedule(room: Room): void {
  const old = timers.get(room);
  if (old) clearTimeout(old);
  timers.delete(room);
  if (room.destroyed) return;
  const bans = expiriesOf(room);
  const now = Date.now();
  for (const [bare, until] of Object.entries(bans)) {
    if (until > now) continue;
    delete bans[bare];
    if (room.affiliationOf(bare) === 'outcast') room.setAffiliation(bare, 'none', { reason: 'Temporary ban expired' });
  }
  const next = Math.min(...Object.values(bans));
  if (Number.isFinite(next))
    timers.set(room, setTimeout(() => schedule(room), Math.min(Math.max(next - now, 0), 2 ** 31 - 1)).unref());
  room.host.persist(room);
}

/** The end (ms) a ban item asks for with <expires seconds|until/>, or undefined for an ordinary ban. */
export function requestedExpiry(item: Element | undefined): number | undefined {
  const exp = item?.getChild('expires', TEMP_BAN_NS);
  if (!exp) return undefined;
  if (exp.attrs.seconds !== undefined && /^\d+$/.test(exp.attrs.seconds))
    return Date.now() + Math.min(Number(exp.attrs.seconds), MAX_SECONDS) * 1000;
  if (exp.attrs.until && !Number.isNaN(Date.parse(exp.attrs.until))) return Date.parse(exp.attrs.until);
  return undefined;
}

export function banExpiry(room: Room, bare: string): number | undefined {
  return (room.data.tempBans as Expiries | undefined)?.[bare];
}

/** Library form: bans `bare` for `seconds`. */
export function banTemporarily(room: Room, bare: string, seconds: number, reason?: string): void {
  room.setAffiliation(bare, 'outcast', {
    reason,
    item: el('item', {}, el('expires', { xmlns: TEMP_BAN_NS, seconds: String(seconds) })),
  });
}

export function install({ hooks }: FeatureContext): void {
  hooks.on('affiliation-changed', ({ room, bareJid, newAffiliation, item }) => {
    const bans = expiriesOf(room);
    const exp = item?.getChild('expires', TEMP_BAN_NS);
    if (newAffiliation !== 'outcast' || !exp) {
      if (bans[bareJid] === undefined) return;
      delete bans[bareJid];
      schedule(room);
      return;
    }
    const until = requestedExpiry(item);
    if (until === undefined) return; // a malformed expiry leaves an ordinary ban, never a shorter one
    bans[bareJid] = until;
    schedule(room);
  });
  hooks.on('restored', ({ room }) => {
    if (room.data.tempBans) schedule(room);
  });
  hooks.on('destroyed', ({ room }) => {
    const t = timers.get(room);
    if (t) clearTimeout(t);
    timers.delete(room);
  });
  hooks.on('disco-info', ({ features }) => {
    features.add(TEMP_BAN_NS);
  });
}
