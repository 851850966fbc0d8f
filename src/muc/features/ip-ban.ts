// Bans by network address for anonymous viewers, who can otherwise come back under a new JID at once. An admin
// names the occupant; the room bans its JID and remembers a salted hash of its address (never the address), so
// anonymous joins from that address are refused and other anonymous occupants from it leave with 301. Accounts
// are banned by JID as usual: one address often hides many people (NAT), so they are never caught by it.
//   <iq type='set'><ban-ip xmlns='urn:livechat-xmpp:muc-ip-ban:0' nick='…'><reason/></ban-ip></iq>
//   <iq type='get'><ip-bans xmlns='…'/></iq>  →  <ip-bans><ban id='…' nick='…' at='…'><reason/></ban></ip-bans>
//   <iq type='set'><unban-ip xmlns='…' id='…'/></iq>
// The address comes from the occupant's local session (whatever its transport); remote users have none here.
import { createHash } from 'node:crypto';
import { StanzaError } from '../../xmpp/errors.js';
import { el } from '../../xmpp/xml.js';
import type { Room } from '../room.js';
import { AFF_RANK } from '../types.js';
import type { FeatureContext } from './util.js';

export const IP_BAN_NS = 'urn:livechat-xmpp:muc-ip-ban:0';

interface IpBan { nick: string; reason?: string; at: number }
type IpBans = Record<string, IpBan>;

const bansOf = (room: Room): IpBans => (room.data.ipBans ??= {}) as IpBans;

function addressKey(room: Room, address: string): string {
  return createHash('sha256').update(room.occupantIdSalt).update('\0ip\0').update(address).digest('base64url').slice(0, 22);
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

export function install({ hooks, iq }: FeatureContext): void {
  iq.register('ban-ip', IP_BAN_NS, 'set', ({ room, payload, from, occupant }) => {
    requireAdmin(room, from.bare().toString());
    const target = room.occupants.get(payload.attrs.nick ?? '');
    if (!target) throw new StanzaError('item-not-found', undefined, 'cancel');
    const key = anonymousKey(room, target.primary.full);
    if (!key) throw new StanzaError('not-allowed', 'Only anonymous viewers connected here can be banned by address; ban accounts by JID', 'cancel');
    const reason = payload.getChildText('reason') ?? undefined;
    bansOf(room)[key] = { nick: target.nick, reason, at: Date.now() };
    // Everyone anonymous on that address goes, the named occupant first.
    const caught = [target, ...[...room.occupants.values()].filter((o) => o !== target && [...o.sessions.keys()].some((f) => anonymousKey(room, f) === key))];
    for (const o of caught) room.setAffiliation(o.bareJid, 'outcast', { actor: occupant, actorJid: from.toString(), reason });
    room.host.persist(room);
  });

  iq.register('ip-bans', IP_BAN_NS, 'get', ({ room, from }) => {
    requireAdmin(room, from.bare().toString());
    const out = el('ip-bans', { xmlns: IP_BAN_NS });
    for (const [id, b] of Object.entries(bansOf(room))) {
      out.append(el('ban', { id, nick: b.nick, at: new Date(b.at).toISOString() }, b.reason ? el('reason', {}, b.reason) : undefined));
    }
    return out;
  });

  iq.register('unban-ip', IP_BAN_NS, 'set', ({ room, from, payload }) => {
    requireAdmin(room, from.bare().toString());
    const bans = bansOf(room);
    const id = payload.attrs.id ?? '';
    if (!bans[id]) throw new StanzaError('item-not-found', undefined, 'cancel');
    delete bans[id];
    room.host.persist(room);
  });

  hooks.on('pre-join', ({ room, from, affiliation }) => {
    if (AFF_RANK[affiliation] >= AFF_RANK.member) return;
    const key = anonymousKey(room, from.toString());
    if (key && (room.data.ipBans as IpBans | undefined)?.[key]) throw new StanzaError('forbidden', 'You have been banned from this room', 'auth');
  }, 90);

  hooks.on('disco-info', ({ features }) => { features.add(IP_BAN_NS); });
}
