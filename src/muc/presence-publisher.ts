// The one place occupant presences leave the room (Prosody's publicise_occupant_status): joins, leaves, role and
// affiliation changes, nick changes and presence updates all call publish(). Each change is built at most once per
// view (with or without real JIDs) and serialized once per view; every copy passes the `presence-deliver` hook, where
// a feature may withhold it from a recipient or hand that recipient a decorated copy.
import type { Element } from '../xmpp/xml.js';
import { el } from '../xmpp/xml.js';
import { PreparedStanza } from '../xmpp/prepared.js';
import type { Occupant, OccupantSession, View } from './occupant.js';
import { mucUserX, presencePayload, type ItemDetails } from './presence.js';
import type { Role } from './types.js';
import type { Room } from './room.js';

/** What the presence says; without any field it is the occupant's current available presence (cached per view). */
export interface PresenceChange {
  type?: 'unavailable';
  codes?: string[];
  details?: ItemDetails;
  /** Presence children; default: the primary session's payload (show, status, caps…). */
  payload?: Element[];
  /** Role shown in the <item/>; default the occupant's (leaving shows 'none'). */
  role?: Role;
  destroy?: Element;
}

export interface PublishOptions extends PresenceChange {
  /** Sessions of the occupant that get their own copy (110); default all of them. */
  selfSessions?: Iterable<OccupantSession>;
  /** The session that acted: told first, with these extra codes (201, 100, 210…). */
  actor?: { session: OccupantSession; codes: string[] };
  /** Differences of the self copies (a session leaving a multi-session occupant lists only itself). */
  self?: PresenceChange & { jids?: string[] };
  /** Other occupants: everyone who may see the role, only those seeing real JIDs, or nobody. */
  others?: 'all' | 'full' | 'none';
  /** Those who saw the occupant under this role hear of the change too (presence broadcast limited by role). */
  prevRole?: Role;
  /** Narrows the other recipients further (a feature announcing or withdrawing an occupant to those lacking it). */
  to?: (recipient: Occupant) => boolean;
}

/** Whether `recipient` is shown `occ` at all, whatever the roles say; installed on a room by a feature. */
export type OccupantVisibility = (occ: Occupant, recipient: Occupant) => boolean;

/**
 * Installed with a visibility rule that hides most occupants from most others: who to even consider, so a join in a
 * room of thousands costs O(visible) rather than a walk over everyone. Both return a superset of the occupants the
 * rules let through (the rules are still applied to each), or undefined for "anyone"; entries no longer in the room
 * are skipped.
 */
export interface VisibilityIndex {
  /** Who may be shown `occ`; called on every publish of `occ` to others. */
  audienceOf(occ: Occupant): Occupants | undefined;
  /** Whom `recipient` may be shown (its join roster). */
  shownTo(recipient: Occupant): Occupants | undefined;
}

/**
 * Occupants walked with forEach (a Set, an array, the room's map): a for…of over either an index's Set or the room's
 * Map made an iterator result per occupant (the loop sees both kinds of iterator), ~100 per join's roster.
 */
export interface Occupants {
  forEach(fn: (o: Occupant) => void): void;
}

export interface BuildOptions extends PresenceChange {
  /** Overrides the sessions listed (a session leaving a multi-session occupant sees only itself). */
  jids?: string[];
  /** The receiving session, listed first in its own presence. */
  selfJid?: string;
}

const hasChange = (c: PresenceChange): boolean =>
  c.type !== undefined ||
  c.codes !== undefined ||
  c.details !== undefined ||
  c.payload !== undefined ||
  c.role !== undefined ||
  c.destroy !== undefined;

/**
 * An occupant's presence as others get it (a join, a leave, a nick change, a role change): it may wait for a busy
 * viewer's write-coalescing window, with the room's messages, so a join storm, a crowd leaving or a nick wave costs
 * one write per viewer per window rather than one per change. An occupant's own presences (110) never wait: they go
 * through the router as ordinary stanzas, and take whatever is held for it with them, in order.
 */
function othersCopy(presence: Element): PreparedStanza {
  return new PreparedStanza(presence, true);
}

export class PresencePublisher {
  /** Occupant-level visibility on top of the role rules (features/visible-occupants.ts); unset: roles decide alone. */
  visibility: OccupantVisibility | undefined;
  /** Candidates for the visibility rule (set with it, or left unset: everyone is a candidate). */
  index: VisibilityIndex | undefined;

  constructor(private readonly room: Room) {}

  /** Sends a change of `occ` to its own sessions, then to the other occupants allowed to see it. */
  publish(occ: Occupant, opts: PublishOptions = {}): void {
    const change: PresenceChange = {
      type: opts.type,
      codes: opts.codes,
      details: opts.details,
      payload: opts.payload,
      role: opts.role,
      destroy: opts.destroy,
    };
    const selfChange = { ...change, ...opts.self };
    const actor = opts.actor;
    if (actor)
      this.sendSelf(occ, actor.session, { ...selfChange, codes: [...(selfChange.codes ?? []), ...actor.codes] });
    for (const s of opts.selfSessions ?? occ.sessions.values()) {
      if (s !== actor?.session) this.sendSelf(occ, s, selfChange);
    }
    const others = opts.others ?? 'all';
    if (others === 'none') return;
    const fresh = hasChange(change);
    const copies: Partial<Record<View, PreparedStanza>> = {};
    const copy = (view: View): PreparedStanza => {
      if (!fresh) return this.view(occ, view);
      return (copies[view] ??= othersCopy(this.build(occ, view, change)));
    };
    const audience = this.index?.audienceOf(occ);
    const unavailable = change.type === 'unavailable';
    (audience ?? this.room.occupants).forEach((o) => {
      if (o === occ || (audience && this.room.occupants.get(o.nick) !== o)) return;
      if (!this.sees(occ.role, o) && !(opts.prevRole && this.sees(opts.prevRole, o))) return;
      if ((this.visibility && !this.visibility(occ, o)) || (opts.to && !opts.to(o))) return;
      const view: View = this.room.canSeeJids(o) ? 'full' : 'anon';
      if (others === 'full' && view === 'anon') return;
      this.deliver(occ, o, view, copy(view), unavailable);
    });
  }

  /** One session's own presence (status 110). */
  sendSelf(occ: Occupant, session: OccupantSession, change: PresenceChange & { jids?: string[] } = {}): void {
    const p = this.build(occ, 'self', { ...change, selfJid: session.full });
    if (this.room.hooks.has('presence-deliver')) {
      const ev = {
        room: this.room,
        occupant: occ,
        recipient: occ,
        session,
        view: 'self' as const,
        stanza: new PreparedStanza(p),
        unavailable: change.type === 'unavailable',
      };
      if (this.room.hooks.fire('presence-deliver', ev)) return;
      this.room.router.route(ev.stanza.toElement(session.full));
      return;
    }
    p.attrs.to = session.full;
    this.room.router.route(p);
  }

  /** Every visible occupant's presence to a new session (the join roster), then the `roster` event. */
  sendRoster(to: Occupant, session: OccupantSession): void {
    const view: View = this.room.canSeeJids(to) ? 'full' : 'anon';
    const shown = this.index?.shownTo(to);
    (shown ?? this.room.occupants).forEach((o) => {
      if (shown && this.room.occupants.get(o.nick) !== o) return;
      if (o === to || !this.sees(o.role, to) || (this.visibility && !this.visibility(o, to))) return;
      this.deliver(o, to, view, this.view(o, view), false, session);
    });
    this.room.hooks.fire('roster', { room: this.room, occupant: to, session, view });
  }

  /** One occupant's current presence to one session that asked (probe). */
  sendTo(occ: Occupant, recipient: Occupant, session: OccupantSession): void {
    const view: View = this.room.canSeeJids(recipient) ? 'full' : 'anon';
    this.deliver(occ, recipient, view, new PreparedStanza(this.build(occ, view)), false, session);
  }

  /** Whether `recipient` gets presences of occupants in `role` (muc#roomconfig_presencebroadcast). */
  sees(role: Role, recipient: Occupant): boolean {
    if (this.room.config.presenceBroadcast.includes(role)) return true;
    return recipient.role === 'moderator' && this.room.host.config.moderatorsSeeAllPresences;
  }

  /** The occupant's current available presence for a view, serialized once and cached. */
  view(occ: Occupant, view: View): PreparedStanza {
    let p = occ.cachedView(view);
    if (!p) {
      p = othersCopy(this.build(occ, view));
      occ.cacheView(view, p);
    }
    return p;
  }

  build(occ: Occupant, view: View | 'self', opts: BuildOptions = {}): Element {
    const room = this.room;
    const affiliation = room.affiliationOf(occ.bareJid);
    // One <item/> per session where real JIDs may be seen (XEP-0045 §7.2.9 multi-session nicks); the receiving
    // session's own JID comes first in its self-presence, as clients read the first item.
    let jids: string[] | undefined = opts.jids;
    if (!jids && view !== 'anon') {
      jids = [...occ.sessions.keys()];
      const first = view === 'self' ? opts.selfJid : undefined;
      if (first && jids[0] !== first && jids.includes(first)) jids = [first, ...jids.filter((j) => j !== first)];
    }
    const p = el('presence', { from: room.nickJid(occ.nick), type: opts.type });
    for (const c of opts.payload ?? presencePayload(occ.primary?.presence)) p.append(c);
    p.append(
      mucUserX({
        affiliation,
        role: opts.role ?? occ.role,
        jids,
        codes: opts.codes,
        self: view === 'self',
        details: opts.details,
        // The actor's real JID only in others' full view: one's own presence names the actor by nick (as Prosody does).
        destroy: opts.destroy,
        showActorJid: view === 'full',
      }),
    );
    room.hooks.fire('presence-out', { room, occupant: occ, stanza: p, view });
    return p;
  }

  private deliver(
    occ: Occupant,
    recipient: Occupant,
    view: View,
    p: PreparedStanza,
    unavailable: boolean,
    session?: OccupantSession,
  ): void {
    const room = this.room;
    let stanza = p;
    if (room.hooks.has('presence-deliver')) {
      const ev = { room, occupant: occ, recipient, session, view, stanza: p, unavailable };
      if (room.hooks.fire('presence-deliver', ev)) return;
      stanza = ev.stanza;
    }
    if (session) room.deliverToSession(session, stanza);
    else room.deliver(recipient, stanza);
  }
}
