// Who is in the room: joins (with multi-session nicks), presence updates, nick changes, probes and leaves. Every
// presence these send goes through the room's PresencePublisher.
import { el, type Element } from '../xmpp/xml.js';
import { ownCopy, type JID, bareString } from '../xmpp/jid.js';
import { StanzaError } from '../xmpp/errors.js';
import { Occupant, type OccupantSession } from './occupant.js';
import { leavePayload, mucUserX, storedPresence } from './presence.js';
import { MUC_NS } from './types.js';
import type { JoinEvent, NickChangeEvent } from './events.js';
import type { RemoveOptions, Room } from './room.js';

const IGNORABLE = /[\p{Cc}\p{Cs}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}]/u;

export class RoomOccupants {
  constructor(private readonly room: Room) {}

  onPresence(stanza: Element, from: JID, to: JID): void {
    const type = stanza.attrs.type;
    const full = from.toString();
    const occ = this.room.bySession.get(full);
    if (type === 'unavailable') {
      if (occ) this.removeSession(occ, full, { payload: leavePayload(stanza) });
      return;
    }
    if (type === 'error') {
      // issue 978: a client bouncing our presence is gone; tell the others why.
      if (occ) {
        const cond = stanza
          .getChild('error')
          ?.getChildElements()
          .find((c) => c.attrs.xmlns === MUC_NS.STANZAS && c.name !== 'text');
        const text = stanza.getChild('error')?.getChildText('text', MUC_NS.STANZAS);
        const why = `Kicked: ${(cond?.name ?? 'error').replace(/-/g, ' ')}${text ? `: ${text}` : ''}`;
        // Only that session is gone; the occupant stays while it has others (their presence lists one item less).
        if (occ.sessions.size > 1) this.removeSession(occ, full, {}, false);
        else this.removeOccupant(occ, { codes: ['333'], payload: [el('status', {}, why)] });
      }
      return;
    }
    if (type === 'probe') {
      this.onProbe(from, to, occ);
      return;
    }
    if (type) return; // subscription requests to a room mean nothing
    if (!to.resource) {
      if (occ) return; // presence to the bare room: ignore (clients sometimes broadcast)
      throw new StanzaError('jid-malformed', 'A nickname is required', 'modify');
    }
    const nick = to.resource;
    if (!occ) {
      this.join(stanza, from, nick, false);
      return;
    }
    if (occ.nick === nick) {
      if (stanza.getChild('x', MUC_NS.MUC)) this.resync(stanza, occ, full);
      else this.updatePresence(occ, full, stanza);
      return;
    }
    this.changeNick(occ, from, nick, stanza);
  }

  /** Checks a nickname; XEP-0045 §7.2.9 lets a room refuse nicks that fail its rules. */
  validateNick(nick: string): void {
    if (
      !nick ||
      Buffer.byteLength(nick) > 1023 ||
      nick.trim() !== nick ||
      IGNORABLE.test(nick) ||
      nick.normalize('NFC') !== nick
    ) {
      throw new StanzaError('jid-malformed', 'Nickname must pass strict validation', 'modify');
    }
  }

  join(stanza: Element, from: JID, nick: string, created: boolean): void {
    // Kept for the occupant's life: a local session's own strings rather than new ones per occupant.
    const local = this.room.router.sessionFor(from.toString());
    const full = local?.fullJid ?? from.toString();
    const bare = local?.bareJid ?? bareString(from);
    try {
      this.validateNick(nick);
    } catch (err) {
      this.room.bounce(
        stanza,
        err as StanzaError,
        `${this.room.jid}/${nick.replace(new RegExp(IGNORABLE.source, 'gu'), '')}`,
      );
      return;
    }
    const affiliation = this.room.affiliationOf(bare);
    const ev: JoinEvent = {
      room: this.room,
      stanza,
      from,
      bareJid: bare,
      nick,
      x: stanza.getChild('x', MUC_NS.MUC),
      affiliation,
      role: this.room.defaultRole(affiliation),
      created,
      codes: new Set(created ? ['201'] : []),
    };
    if (affiliation === 'outcast') throw new StanzaError('forbidden', 'You have been banned from this room', 'auth');
    const existing = this.room.occupants.get(nick);
    if (existing && existing.bareJid !== bare) throw new StanzaError('conflict', undefined, 'cancel');
    if (!existing && this.room.occupants.size >= this.room.host.config.maxOccupants) {
      throw new StanzaError('service-unavailable', 'The room is full', 'wait');
    }
    this.room.hooks.fire('pre-join', ev);

    const session: OccupantSession = { jid: from, full, presence: storedPresence(stanza) };
    let occ = existing;
    if (occ) {
      // Another session of the same user takes the same nick: it joins the occupant (multi-session nick,
      // XEP-0045 §7.2.9). Only the views listing real JIDs change (one <item/> more).
      occ.sessions.set(full, session);
      this.room.bySession.set(full, occ);
      occ.invalidate();
      this.room.presence.sendRoster(occ, session);
      this.room.presence.publish(occ, { actor: { session, codes: [...ev.codes] }, others: 'full' });
    } else {
      occ = new Occupant(ownCopy(nick), bare, ev.role, this.room.occupantIdFor(bare));
      occ.sessions.set(full, session);
      this.room.occupants.set(occ.nick, occ);
      this.room.bySession.set(full, occ);
      this.room.presence.sendRoster(occ, session);
      this.room.presence.publish(occ, { actor: { session, codes: [...ev.codes] } });
    }
    ev.occupant = occ;
    ev.session = session;
    this.room.hooks.fire('join', ev);
  }

  resync(stanza: Element, occ: Occupant, full: string): void {
    const session = occ.sessions.get(full)!;
    session.presence = storedPresence(stanza);
    occ.invalidate();
    const ev: JoinEvent = {
      room: this.room,
      stanza,
      from: session.jid,
      bareJid: occ.bareJid,
      nick: occ.nick,
      x: stanza.getChild('x', MUC_NS.MUC),
      affiliation: this.room.affiliationOf(occ.bareJid),
      role: occ.role,
      created: false,
      codes: new Set(),
      occupant: occ,
      session,
      resync: true,
    };
    this.room.presence.sendRoster(occ, session);
    this.room.presence.publish(occ, { selfSessions: [session], others: 'none' });
    this.room.hooks.fire('join', ev);
  }

  updatePresence(occ: Occupant, full: string, stanza: Element): void {
    const s = occ.sessions.get(full)!;
    s.presence = storedPresence(stanza);
    if (s !== occ.primary) return; // only the primary session's presence represents the occupant
    occ.invalidate();
    this.room.presence.publish(occ);
  }

  changeNick(occ: Occupant, from: JID, nick: string, stanza: Element): void {
    try {
      this.validateNick(nick);
    } catch (err) {
      this.room.bounce(stanza, err as StanzaError);
      return;
    }
    const taken = this.room.occupants.get(nick);
    if (taken && taken.bareJid !== occ.bareJid) throw new StanzaError('conflict', undefined, 'cancel');
    const ev: NickChangeEvent = { room: this.room, occupant: occ, from, oldNick: occ.nick, newNick: nick };
    this.room.hooks.fire('pre-nick-change', ev);
    if (taken || occ.sessions.size > 1) {
      if (!taken && this.room.occupants.size >= this.room.host.config.maxOccupants)
        throw new StanzaError('service-unavailable', 'The room is full', 'wait');
      this.moveSession(occ, from.toString(), nick, stanza, taken);
      return;
    }
    const session = occ.primary;
    // 303: unavailable from the old nick carrying the new one, then available from the new nick.
    // (Its own copy keeps the presence payload, as it always did; the others' copy carries none.)
    this.room.presence.publish(occ, {
      type: 'unavailable',
      codes: ['303'],
      details: { nick },
      payload: [],
      self: { payload: undefined, role: occ.role },
    });
    this.room.occupants.delete(occ.nick);
    occ.nick = ownCopy(nick);
    this.room.occupants.set(occ.nick, occ);
    session.presence = storedPresence(stanza);
    occ.invalidate();
    this.room.presence.publish(occ);
  }

  /**
   * One session of a multi-session occupant changes nick, or a session moves into its user's occupant under another
   * nick: that session alone moves and sees its own 303; the old nick stays with the other sessions (or leaves).
   */
  moveSession(occ: Occupant, full: string, nick: string, stanza: Element, dest: Occupant | undefined): void {
    const session = occ.sessions.get(full)!;
    const role = occ.role;
    this.room.presence.publish(occ, {
      type: 'unavailable',
      codes: ['303'],
      details: { nick },
      role,
      payload: [],
      self: { jids: [full] },
      selfSessions: [session],
      others: 'none',
    });
    if (occ.sessions.size > 1) this.removeSession(occ, full, {}, false);
    else this.removeOccupant(occ, {}, false);
    session.presence = storedPresence(stanza);
    let target = dest;
    if (!target) {
      target = new Occupant(ownCopy(nick), occ.bareJid, role, occ.occupantId);
      this.room.occupants.set(target.nick, target);
    }
    target.sessions.set(full, session);
    this.room.bySession.set(full, target);
    target.invalidate();
    // A new occupant is news to everyone; an extra session of an existing one only to those seeing real JIDs.
    this.room.presence.publish(target, { actor: { session, codes: [] }, others: dest ? 'full' : 'all' });
  }

  onProbe(from: JID, to: JID, prober: Occupant | undefined): void {
    if (!prober) throw new StanzaError('not-acceptable', undefined, 'cancel');
    const target = to.resource ? this.room.occupants.get(to.resource) : undefined;
    const session = prober.sessions.get(from.toString())!;
    if (target) {
      this.room.presence.sendTo(target, prober, session);
      return;
    }
    // Someone with a reserved nick who is not here: say so (Prosody #1535).
    for (const [bare, entry] of this.room.affiliations) {
      if (entry.nick === to.resource) {
        const x = mucUserX({
          affiliation: entry.affiliation,
          role: 'none',
          jids: this.room.canSeeJids(prober) ? [bare] : undefined,
          details: { nick: entry.nick },
        });
        this.room.router.route(el('presence', { from: to.toString(), to: session.full, type: 'unavailable' }, x));
        return;
      }
    }
  }

  /** One session leaves; the occupant leaves with its last session. */
  removeSession(occ: Occupant, full: string, opts: RemoveOptions, tellSelf = true): void {
    const session = occ.sessions.get(full);
    if (!session) return;
    if (occ.sessions.size > 1) {
      if (tellSelf) {
        this.room.presence.publish(occ, {
          type: 'unavailable',
          codes: opts.codes ?? [],
          role: 'none',
          payload: opts.payload ?? [],
          self: { jids: [full] },
          selfSessions: [session],
          others: 'none',
        });
      }
      const wasPrimary = session === occ.primary;
      occ.sessions.delete(full);
      this.room.bySession.delete(full);
      // The occupant stays: its remaining sessions and those seeing real JIDs get the shorter item list; everyone
      // else only when the presence payload (the primary session's) changed.
      occ.invalidate();
      this.room.presence.publish(occ, { others: wasPrimary ? 'all' : 'full' });
      return;
    }
    this.removeOccupant(occ, opts, tellSelf);
  }

  /** Removes an occupant with all its sessions, telling it (110) and the others (unless selfOnly). */
  removeOccupant(occ: Occupant, opts: RemoveOptions, tellSelf = true): void {
    if (this.room.occupants.get(occ.nick) !== occ) return;
    const codes = opts.codes ?? [];
    // Sessions that vanished get nothing; the others learn of it with the role it had (limited broadcasts stay
    // limited on the way out).
    const told = tellSelf ? [...occ.sessions.values()].filter((s) => !this.room.goneQueue.includes(s.full)) : [];
    this.room.occupants.delete(occ.nick);
    for (const full of occ.sessions.keys()) this.room.bySession.delete(full);
    this.room.presence.publish(occ, {
      type: 'unavailable',
      codes,
      details: opts.details,
      payload: opts.payload ?? [],
      role: 'none',
      self: { destroy: opts.destroy },
      selfSessions: told,
      others: opts.selfOnly ? 'none' : 'all',
    });
    occ.role = 'none';
    this.room.hooks.fire('leave', { room: this.room, occupant: occ, codes });
    if (this.room.occupants.size === 0 && !this.room.destroyed) this.room.host.roomEmpty(this.room);
  }
}
