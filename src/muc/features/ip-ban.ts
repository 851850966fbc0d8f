// Bans by network address for anonymous viewers, who can otherwise come back under a new JID at once. An admin
// names the occupant; the room bans its JID and remembers a salted hash of its address (never the address), so
// anonymous joins from that address are refused and other anonymous occupants from it leave with 301. Accounts
// are banned by JID as usual: one address often hides many people (NAT), so they are never caught by it.
//   <iq type='set'><ban-ip xmlns='urn:livechat-xmpp:muc-ip-ban:0' nick='…'><reason/></ban-ip></iq>
//   <iq type='get'><ip-bans xmlns='…'/></iq>  →  <ip-bans><ban id='…' nick='…' at='…'><reason/></ban></ip-bans>
//   <iq type='set'><unban-ip xmlns='…' id='…'/></iq>
// The address comes from the occupant's local session (whatever its transport, behind a trusted proxy the client's
// own); remote users have none here. With `muc.autoBanAnonymousIpSeconds` (livechat's auto-ban-anonymous-ip), a
// plain ban (outcast) of an anonymous occupant also bans its address from the room for that long (livechat bans it
// from the whole service until its Prosody restarts), or for the ban's own time when it is temporary (see
// temporary-ban.ts); that address is logged at info level, as livechat logs it.
import { digest } from '../../digest.js';
import { StanzaError } from '../../xmpp/errors.js';
import { el } from '../../xmpp/xml.js';
import type { Room } from '../room.js';
import { AFF_RANK } from '../types.js';
import type { FeatureContext } from './util.js';
import { requestedExpiry } from './temporary-ban.js';
import { bareString } from '../../xmpp/jid.js';

export const IP_BAN_NS = 'urn:livechat-xmpp:muc-ip-ban:0';

interface IpBan {
  nick: string;
  reason?: string;
  at: number;
  /** ms; absent: until lifted. */ until?: number;
}
type IpBans = Record<string, IpBan>;

const bansOf = (room: Room): IpBans => (room.data.ipBans ??= {}) as IpBans;

/** Whether the address key is banned now; an expired automatic ban is dropped. */
function banned(room: Room, key: string): boolean {
  const bans = room.data.ipBans as IpBans | undefined;
  const b = bans?.[key];
  if (!b) return false;
  if (b.until === undefined || b.until > Date.now()) return true;
  delete bans![key];
  room.host.persist(room);
  return false;
}

function addressKey(room: Room, address: string): string {
  return digest('sha256', `${room.occupantIdSalt}\0ip\0${address}`, 'base64url').slice(0, 22);
}

/** The key of an anonymous local session's address, or undefined. */
function anonymousKey(room: Room, fullJid: string): string | undefined {
  const s = room.router.sessionFor(fullJid);
  if (!s?.anonymous || !s.remoteAddress) return undefined;
  return addressKey(room, s.remoteAddress);
}

function requireAdmin(room: Room, bare: string): void {
  if (AFF_RANK[room.affiliationOf(bare)] < AFF_RANK.admin) throw new StanzaError('forbidden', undefined, 'auth');
}

export function install({ hooks, iq, config, log }: FeatureContext): void {
  /** Room → anonymous occupant's bare JID → its address and key, kept from its join (it is gone when the ban lands). */
  const seen = new WeakMap<Room, Map<string, { key: string; nick: string; address: string }>>();
  iq.register('ban-ip', IP_BAN_NS, 'set', ({ room, payload, from, occupant }) => {
    requireAdmin(room, bareString(from));
    const target = room.occupants.get(payload.attrs.nick ?? '');
    if (!target) throw new StanzaError('item-not-found', undefined, 'cancel');
    const key = anonymousKey(room, target.primary.full);
    if (!key)
      throw new StanzaError(
        'not-allowed',
        'Only anonymous viewers connected here can be banned by address; ban accounts by JID',
        'cancel',
      );
    const reason = payload.getChildText('reason') ?? undefined;
    bansOf(room)[key] = { nick: target.nick, reason, at: Date.now() };
    // Everyone anonymous on that address goes, the named occupant first.
    const caught = [
      target,
      ...[...room.occupants.values()].filter(
        (o) => o !== target && [...o.sessions.keys()].some((f) => anonymousKey(room, f) === key),
      ),
    ];
    for (const o of caught)
      room.setAffiliation(o.bareJid, 'outcast', { actor: occupant, actorJid: from.toString(), reason });
    room.host.persist(room);
  });

  iq.register('ip-bans', IP_BAN_NS, 'get', ({ room, from }) => {
    requireAdmin(room, bareString(from));
    const out = el('ip-bans', { xmlns: IP_BAN_NS });
    for (const [id, b] of Object.entries(bansOf(room))) {
      if (b.until !== undefined && b.until <= Date.now()) continue;
      const attrs: Record<string, string> = { id, nick: b.nick, at: new Date(b.at).toISOString() };
      if (b.until !== undefined) attrs.until = new Date(b.until).toISOString();
      out.append(el('ban', attrs, b.reason ? el('reason', {}, b.reason) : undefined));
    }
    return out;
  });

  iq.register('unban-ip', IP_BAN_NS, 'set', ({ room, from, payload }) => {
    requireAdmin(room, bareString(from));
    const bans = bansOf(room);
    const id = payload.attrs.id ?? '';
    if (!bans[id]) throw new StanzaError('item-not-found', undefined, 'cancel');
    delete bans[id];
    room.host.persist(room);
  });

  hooks.on(
    'pre-join',
    ({ room, from, affiliation }) => {
      if (AFF_RANK[affiliation] >= AFF_RANK.member) return;
      const key = anonymousKey(room, from.toString());
      if (key && banned(room, key)) throw new StanzaError('forbidden', 'You have been banned from this room', 'auth');
    },
    90,
  );

  hooks.on('join', ({ room, from, bareJid, nick }) => {
    if (config.autoBanAnonymousIpSeconds <= 0) return;
    const key = anonymousKey(room, from.toString());
    if (!key) return;
    let m = seen.get(room);
    if (!m) seen.set(room, (m = new Map()));
    m.set(bareJid, { key, nick, address: room.router.sessionFor(from.toString())?.remoteAddress ?? '' });
  });
  hooks.on('leave', ({ room, occupant, codes }) => {
    // A ban removes the occupant (301) just before its affiliation-changed: keep the key for it.
    if (!codes.includes('301')) seen.get(room)?.delete(occupant.bareJid);
  });
  hooks.on('affiliation-changed', ({ room, bareJid, newAffiliation, item }) => {
    if (newAffiliation !== 'outcast' || config.autoBanAnonymousIpSeconds <= 0) return;
    const who = seen.get(room)?.get(bareJid);
    seen.get(room)?.delete(bareJid);
    if (!who) return;
    const bans = bansOf(room);
    // A temporary ban keeps the address out for as long as the ban, an ordinary one for the configured time.
    const until = requestedExpiry(item) ?? Date.now() + config.autoBanAnonymousIpSeconds * 1000;
    const prev = bans[who.key];
    // A ban by address without end (ban-ip) is never shortened.
    if (prev && (prev.until === undefined || prev.until >= until)) return;
    bans[who.key] = { nick: who.nick, reason: item?.getChildText('reason') ?? undefined, at: Date.now(), until };
    room.host.persist(room);
    // The address is logged (only here), as livechat does, so administrators can feed it to fail2ban.
    log.info(
      `muc: ${room.jid}: address ${who.address} of anonymous ${who.nick} banned for ${Math.round((until - Date.now()) / 1000)} s`,
    );
  });

  hooks.on('disco-info', ({ features }) => {
    features.add(IP_BAN_NS);
  });
}
