// muc#admin (XEP-0045 §8–9): kick and voice (roles, by nick), ban/member/admin/owner (affiliations, by JID), and the
// affiliation and role lists. Permission rules follow §5.2: nobody acts on a higher affiliation; moderator status
// is granted and revoked by admins and owners; a room keeps at least one owner.
import { StanzaError } from '../../xmpp/errors.js';
import { el, type Element } from '../../xmpp/xml.js';
import { parseJid, bareString } from '../../xmpp/jid.js';
import type { Room, RoomIqContext } from '../room.js';
import { AFFILIATIONS, AFF_RANK, MUC_NS, ROLES, type Affiliation, type Role } from '../types.js';
import type { FeatureContext } from './util.js';
import { TEMP_BAN_NS, banExpiry } from './temporary-ban.js';

function setRole(ctx: RoomIqContext, item: Element): void {
  const { room, occupant: actor } = ctx;
  const role = item.attrs.role as Role;
  if (!ROLES.includes(role)) throw new StanzaError('bad-request', undefined, 'modify');
  if (!actor || actor.role !== 'moderator') throw new StanzaError('forbidden', undefined, 'auth');
  const target = room.occupants.get(item.attrs.nick!);
  if (!target) throw new StanzaError('item-not-found', undefined, 'cancel');
  const actorAff = room.affiliationOf(actor.bareJid);
  const targetAff = room.affiliationOf(target.bareJid);
  // Admins and owners cannot be kicked or muted, and only admins/owners touch moderator status.
  if (role !== 'moderator' && AFF_RANK[targetAff] >= AFF_RANK.admin && AFF_RANK[targetAff] >= AFF_RANK[actorAff]) {
    throw new StanzaError('not-allowed', undefined, 'cancel');
  }
  if ((role === 'moderator' || target.role === 'moderator') && AFF_RANK[actorAff] < AFF_RANK.admin) {
    throw new StanzaError('not-allowed', undefined, 'cancel');
  }
  room.setRole(target, role, actor, item.getChildText('reason') ?? undefined);
}

function setAffiliation(ctx: RoomIqContext, item: Element): void {
  const { room, occupant: actor, from } = ctx;
  const affiliation = item.attrs.affiliation as Affiliation;
  if (!AFFILIATIONS.includes(affiliation)) throw new StanzaError('bad-request', undefined, 'modify');
  let bare: string | undefined;
  if (item.attrs.jid) {
    const j = parseJid(item.attrs.jid);
    if (!j) throw new StanzaError('jid-malformed', undefined, 'modify');
    bare = bareString(j);
  } else if (item.attrs.nick) {
    // Some clients name the occupant by nick only (Prosody issue 1224).
    bare = room.occupants.get(item.attrs.nick)?.bareJid;
    if (!bare) throw new StanzaError('item-not-found', undefined, 'cancel');
  }
  if (!bare) throw new StanzaError('bad-request', undefined, 'modify');
  const actorBare = bareString(from);
  const actorAff = room.affiliationOf(actorBare);
  const targetAff = room.affiliationOf(bare);
  if (actorAff === 'owner') {
    if (AFF_RANK[affiliation] < AFF_RANK.owner && targetAff === 'owner') {
      const owners = [...room.affiliations.entries()].filter(([, e]) => e.affiliation === 'owner').map(([j]) => j);
      if (owners.length <= 1 && owners[0] === bare)
        throw new StanzaError('conflict', 'A room needs at least one owner', 'cancel');
    }
  } else if (actorAff === 'admin') {
    if (AFF_RANK[affiliation] >= AFF_RANK.admin || AFF_RANK[targetAff] >= AFF_RANK.admin)
      throw new StanzaError('not-allowed', undefined, 'cancel');
  } else {
    throw new StanzaError('forbidden', undefined, 'auth');
  }
  const nick = item.attrs.jid && item.attrs.nick ? item.attrs.nick : undefined;
  room.setAffiliation(bare, affiliation, {
    actor,
    actorJid: from.toString(),
    reason: item.getChildText('reason') ?? undefined,
    nick,
    item,
  });
}

function canReadAffiliations(room: Room, bare: string): boolean {
  const aff = room.affiliationOf(bare);
  if (AFF_RANK[aff] >= AFF_RANK.admin) return true;
  // Members of a members-only, non-anonymous room may see who else belongs (Prosody muc_whois_anyone_member).
  return aff === 'member' && room.config.membersOnly && room.config.whois === 'anyone';
}

export function install({ iq }: FeatureContext): void {
  iq.register('query', MUC_NS.ADMIN, 'set', (ctx) => {
    const items = ctx.payload.getChildren('item');
    if (items.length === 0 || items.length > 100) throw new StanzaError('bad-request', undefined, 'modify');
    for (const item of items) {
      if (item.attrs.role && !item.attrs.affiliation && item.attrs.nick) setRole(ctx, item);
      else if (item.attrs.affiliation && !item.attrs.role) setAffiliation(ctx, item);
      else throw new StanzaError('bad-request', undefined, 'modify');
    }
  });

  iq.register('query', MUC_NS.ADMIN, 'get', ({ room, payload, from, occupant }) => {
    const item = payload.getChild('item');
    const q = el('query', { xmlns: MUC_NS.ADMIN });
    const wantAff = item?.attrs.affiliation as Affiliation | undefined;
    const wantRole = item?.attrs.role as Role | undefined;
    if (wantAff && !wantRole) {
      if (!AFFILIATIONS.includes(wantAff) || wantAff === 'none')
        throw new StanzaError('bad-request', undefined, 'modify');
      if (!canReadAffiliations(room, bareString(from))) throw new StanzaError('forbidden', undefined, 'auth');
      for (const [jid, entry] of room.affiliations) {
        if (entry.affiliation !== wantAff) continue;
        const until = wantAff === 'outcast' ? banExpiry(room, jid) : undefined;
        q.append(
          el(
            'item',
            { affiliation: wantAff, jid, nick: entry.nick },
            entry.reason ? el('reason', {}, entry.reason) : undefined,
            until !== undefined
              ? el('expires', { xmlns: TEMP_BAN_NS, until: new Date(until).toISOString() })
              : undefined,
          ),
        );
      }
      return q;
    }
    if (wantRole && !wantAff) {
      if (!ROLES.includes(wantRole)) throw new StanzaError('bad-request', undefined, 'modify');
      if (occupant?.role !== 'moderator') throw new StanzaError('forbidden', undefined, 'auth');
      let n = 0;
      for (const o of room.occupants.values()) {
        if (o.role !== wantRole) continue;
        q.append(
          el('item', { affiliation: room.affiliationOf(o.bareJid), jid: o.primary.full, nick: o.nick, role: o.role }),
        );
        if (++n >= 10000) break;
      }
      return q;
    }
    throw new StanzaError('bad-request', undefined, 'modify');
  });
}
