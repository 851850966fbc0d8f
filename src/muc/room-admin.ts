// Room administration: role and affiliation changes (kick, ban, voice, membership), configuration-change
// announcements, destruction and shutdown.
import { el, type Element } from '../xmpp/xml.js';
import { PreparedStanza } from '../xmpp/prepared.js';
import type { Occupant } from './occupant.js';
import type { ItemDetails } from './presence.js';
import { AFF_RANK, MUC_NS, type Affiliation, type Role } from './types.js';
import type { Room } from './room.js';

export class RoomAdmin {
  constructor(private readonly room: Room) {}

  /** Changes an occupant's role; 'none' kicks (307). `actor` is the acting occupant, if any. */
  setRole(occ: Occupant, role: Role, actor?: Occupant, reason?: string): void {
    const details: ItemDetails = { actor: actor ? { nick: actor.nick, jid: actor.primary.full } : undefined, reason };
    if (role === 'none') {
      this.room.removeOccupant(occ, { codes: ['307'], details });
      return;
    }
    const oldRole = occ.role;
    if (oldRole === role) return;
    occ.role = role;
    this.announceChange(occ, details, oldRole);
    this.room.hooks.fire('role-changed', { room: this.room, occupant: occ, oldRole, newRole: role });
    // A new moderator now sees real JIDs and limited presences: give it the full roster.
    if (
      role === 'moderator' &&
      (!this.canSeeJidsForRole(oldRole) ||
        !this.room.config.presenceBroadcast.includes('participant') ||
        !this.room.config.presenceBroadcast.includes('visitor'))
    ) {
      for (const s of occ.sessions.values()) this.room.presence.sendRoster(occ, s);
    }
  }

  canSeeJidsForRole(role: Role): boolean {
    return this.room.config.whois === 'anyone' || role === 'moderator';
  }

  /** Presence after a role or affiliation change: to the occupant (110) and to those who see it (old or new role). */
  announceChange(occ: Occupant, details: ItemDetails, oldRole: Role): void {
    occ.invalidate();
    this.room.presence.publish(occ, { details, prevRole: oldRole });
  }

  /**
   * Sets a bare JID's affiliation and applies it to its occupants: bans remove them (301), losing membership in a
   * members-only room removes them (321), otherwise their role follows. Non-occupants are announced by message.
   */
  setAffiliation(
    bare: string,
    affiliation: Affiliation,
    opts: { actor?: Occupant; actorJid?: string; reason?: string; nick?: string; item?: Element } = {},
  ): void {
    const old = this.room.affiliationOf(bare);
    const prevEntry = this.room.affiliations.get(bare);
    if (affiliation === 'none') this.room.affiliations.delete(bare);
    else this.room.affiliations.set(bare, { affiliation, nick: opts.nick ?? prevEntry?.nick, reason: opts.reason });
    const actorDetails = opts.actor ? { nick: opts.actor.nick, jid: opts.actor.primary.full } : undefined;
    const details: ItemDetails = { actor: actorDetails, reason: opts.reason };
    const here = this.room.occupantsOf(bare);
    for (const occ of here) {
      if (affiliation === 'outcast') {
        this.room.removeOccupant(occ, { codes: ['301'], details });
      } else if (this.room.config.membersOnly && AFF_RANK[affiliation] < AFF_RANK.member) {
        this.room.removeOccupant(occ, { codes: ['321'], details });
      } else {
        const oldRole = occ.role;
        // Keep a moderator-granted voice/visitor state unless the affiliation dictates otherwise.
        let role = this.room.defaultRole(affiliation);
        if (role === 'participant' && oldRole === 'moderator' && AFF_RANK[old] < AFF_RANK.admin) role = 'moderator';
        occ.role = role;
        this.announceChange(occ, details, oldRole);
        if (oldRole !== role)
          this.room.hooks.fire('role-changed', { room: this.room, occupant: occ, oldRole, newRole: role });
      }
    }
    this.room.hooks.fire('affiliation-changed', {
      room: this.room,
      bareJid: bare,
      oldAffiliation: old,
      newAffiliation: affiliation,
      actor: opts.actorJid,
      item: opts.item,
    });
    if (here.length === 0) this.announceAffiliation(bare, affiliation, opts.reason);
    this.room.host.persist(this.room);
  }

  /** XEP-0045 §9.x: an affiliation change of someone not in the room, told to those who may see real JIDs. */
  announceAffiliation(bare: string, affiliation: Affiliation, reason?: string): void {
    const item = el('item', { jid: bare, affiliation }, reason ? el('reason', {}, reason) : undefined);
    const x = el(
      'x',
      { xmlns: MUC_NS.USER },
      affiliation === 'outcast' ? el('status', { code: '301' }) : undefined,
      item,
    );
    const p = new PreparedStanza(el('message', { from: this.room.jid }, x));
    this.room.broadcast(p, (o) => this.room.canSeeJids(o));
  }

  /** Tells every occupant the status codes of a configuration change (104, 170–173…). */
  announceCodes(codes: Iterable<string>): void {
    const x = el('x', { xmlns: MUC_NS.USER });
    for (const c of codes) x.append(el('status', { code: c }));
    if (x.children.length) this.room.broadcastRoomMessage([x]);
  }

  /** Destroys the room: every occupant gets its own unavailable presence with <destroy/> (XEP-0045 §10.9). */
  destroy(reason?: string, alternate?: string, password?: string): void {
    if (this.room.destroyed) return;
    this.room.destroyed = true;
    for (const occ of [...this.room.occupants.values()]) {
      const d = el(
        'destroy',
        { jid: alternate },
        reason !== undefined ? el('reason', {}, reason) : undefined,
        password ? el('password', {}, password) : undefined,
      );
      this.room.removeOccupant(occ, { selfOnly: true, destroy: d });
    }
    this.room.hooks.fire('destroyed', { room: this.room });
    this.room.host.archive.dropRoom(this.room.jid);
    this.room.host.roomDestroyed(this.room);
  }

  /** Service shutdown (332): occupants are told they left, the room stays as it is stored. */
  shutdown(): void {
    for (const occ of [...this.room.occupants.values()])
      this.room.removeOccupant(occ, { codes: ['332'], selfOnly: true });
  }
}
