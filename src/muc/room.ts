// The room core: its state (occupants, affiliations, configuration), the entry point for stanzas and the fan-out
// primitives. Each concern lives in its own module: who is in the room (room-occupants.ts), the presences they see
// (presence-publisher.ts), messages (room-messages.ts), iqs (room-iq.ts), roles, affiliations and destruction
// (room-admin.ts). Everything optional (passwords, members-only, history, subject, moderation…) lives in one file
// per feature under ./features, hooking the typed events of events.ts.
import { digest } from '../digest.js';
import { Element, el } from '../xmpp/xml.js';
import { ownCopy, parseJid, type JID } from '../xmpp/jid.js';
import { StanzaError, errorElement, errorReply } from '../xmpp/errors.js';
import type { PreparedStanza } from '../xmpp/prepared.js';
import type { Router } from '../xmpp/router.js';
import type { Logger } from '../log.js';
import type { Hooks } from './hooks.js';
import type { MucConfig } from './config.js';
import type { RoomArchive } from './archive.js';
import type { Occupant, OccupantSession } from './occupant.js';
import type { ItemDetails } from './presence.js';
import { PresencePublisher } from './presence-publisher.js';
import { OccupantMap, SessionIndex } from './occupant-map.js';
import { FanoutList } from './fanout-list.js';
import { RoomOccupants } from './room-occupants.js';
import { RoomMessages, isHistoric } from './room-messages.js';
import { RoomIq, type RoomIqRoutes } from './room-iq.js';
import { RoomAdmin } from './room-admin.js';
import type { GroupchatOutEvent, MucEvents } from './events.js';
import { MUC_NS, type Affiliation, type AffiliationEntry, type Role, type RoomConfig } from './types.js';
import { PROSODY_SALT_PREFIX, prosodyOccupantId } from './prosody-occupant-id.js';

export type * from './events.js';
export { RoomIqRoutes, type RoomIqContext, type RoomIqHandler } from './room-iq.js';

/** What a room needs from its service. */
export interface RoomHost {
  readonly router: Router;
  readonly hooks: Hooks<MucEvents>;
  readonly iq: RoomIqRoutes;
  readonly config: MucConfig;
  readonly archive: RoomArchive;
  readonly log: Logger;
  isServerAdmin(bare: string): boolean;
  /** Whether a bare JID is an anonymous login (the viewer counter counts them). */
  isAnonymous(bare: string): boolean;
  /** Fan-out time of one room message, for metrics. */
  observeFanout?: (seconds: number, recipients: number) => void;
  /** Config, affiliations or subject changed: save if persistent (or forget if no longer). */
  persist(room: Room): void;
  /** The last occupant left. */
  roomEmpty(room: Room): void;
  roomDestroyed(room: Room): void;
}

export interface Subject {
  text: string;
  nick: string;
  ts: number;
}

export interface RemoveOptions {
  codes?: string[];
  details?: ItemDetails;
  /** Extra payload of the unavailable presence (the leaver's status text). */
  payload?: Element[];
  /** Only the occupant learns of it (room destruction). */
  selfOnly?: boolean;
  destroy?: Element;
}

// ---- the room ----------------------------------------------------------------------------------------------

export class Room {
  readonly jid: string;
  readonly occupants: OccupantMap;
  /** Real full JID → occupant. */
  readonly bySession: SessionIndex;
  readonly affiliations = new Map<string, AffiliationEntry>();
  subject: Subject = { text: '', nick: '', ts: 0 };
  destroyed = false;
  /** Per-room secret for XEP-0421 occupant-ids. */
  occupantIdSalt = '';
  /** Feature state saved with the room (current poll, room terms…), one key per feature; JSON values only. */
  data: Record<string, unknown> = {};
  /** Every session with its router session, for the message fan-out (fanout-list.ts). */
  private readonly fanout: FanoutList;
  /** Sessions a delivery found gone during the current fan-out (removed by flushGone). */
  readonly goneQueue: string[] = [];
  readonly presence = new PresencePublisher(this);
  readonly members = new RoomOccupants(this);
  readonly messages = new RoomMessages(this);
  readonly iqs = new RoomIq(this);
  readonly admin = new RoomAdmin(this);

  constructor(
    readonly localpart: string,
    readonly host: RoomHost,
    public config: RoomConfig,
  ) {
    this.jid = `${localpart}@${host.config.host}`;
    this.occupants = new OccupantMap((bare) => host.isAnonymous(bare));
    this.fanout = new FanoutList(this.occupants, host.router);
    this.bySession = new SessionIndex(() => this.fanout.invalidate());
  }

  get router(): Router {
    return this.host.router;
  }
  get hooks(): Hooks<MucEvents> {
    return this.host.hooks;
  }
  get occupantCount(): number {
    return this.occupants.size;
  }

  // ---- lookups -----------------------------------------------------------------------------------------------

  affiliationOf(bare: string): Affiliation {
    const a = this.affiliations.get(bare)?.affiliation;
    if (a) return a;
    if (this.host.isServerAdmin(bare)) return 'owner';
    return 'none';
  }

  /** XEP-0045 §5.1.2 default role for an affiliation. */
  defaultRole(aff: Affiliation): Role {
    if (aff === 'owner' || aff === 'admin') return 'moderator';
    if (aff === 'outcast') return 'none';
    if (aff === 'member') return 'participant';
    return this.config.moderated ? 'visitor' : 'participant';
  }

  occupantOf(full: string): Occupant | undefined {
    return this.bySession.get(full);
  }

  occupantsOf(bare: string): Occupant[] {
    return [...this.occupants.ofBare(bare)];
  }

  nickJid(nick: string): string {
    return `${this.jid}/${nick}`;
  }

  /** Real JIDs are shown to moderators, or to everyone in non-anonymous rooms. */
  canSeeJids(o: Occupant | undefined): boolean {
    return this.config.whois === 'anyone' || o?.role === 'moderator';
  }

  occupantIdFor(bare: string): string {
    return occupantId(this.occupantIdSalt, this.jid, bare);
  }

  // ---- stanza entry points ---------------------------------------------------------------------------------

  receive(stanza: Element, from: JID, to: JID): void {
    if (this.destroyed) {
      this.bounce(stanza, new StanzaError('item-not-found'));
      return;
    }
    try {
      if (stanza.name === 'presence') this.members.onPresence(stanza, from, to);
      else if (stanza.name === 'message') this.messages.onMessage(stanza, from, to);
      else if (stanza.name === 'iq') this.iqs.onIq(stanza, from, to);
    } catch (err) {
      if (err instanceof StanzaError) this.bounce(stanza, err);
      else throw err;
    }
    this.flushGone();
  }

  /** Error reply from the room (`by` set to the room, as XEP-0045 examples do). */
  bounce(stanza: Element, err: StanzaError, fromOverride?: string): void {
    const reply = errorReply(stanza, err);
    if (!reply) return;
    if (stanza.name === 'presence') {
      // Presence errors carry only the error (and the muc x back), not the whole payload.
      reply.children = [];
      const x = stanza.getChild('x', MUC_NS.MUC);
      if (x && stanza.attrs.type !== 'probe') reply.append(el('x', { xmlns: MUC_NS.MUC }));
      reply.append(
        errorElement(
          err.condition,
          err.text,
          err.type,
          stanza.attrs.type === 'probe' ? undefined : this.jid,
          err.appCondition,
        ),
      );
    } else {
      const e = reply.getChild('error');
      if (e) e.attrs.by = this.jid;
    }
    if (fromOverride) reply.attrs.from = fromOverride;
    delete reply.attrs.xmlns;
    this.router.route(reply);
  }

  // ---- fan-out ------------------------------------------------------------------------------------------

  /** Whether `recipient` gets presences of occupants in `role` (muc#roomconfig_presencebroadcast). */
  seesPresenceOf(role: Role, recipient: Occupant): boolean {
    return this.presence.sees(role, recipient);
  }

  /** Sends a prepared stanza to every session of every occupant (the message fan-out). */
  broadcast(p: PreparedStanza, filter?: (o: Occupant) => boolean): void {
    this.fanout.send(p, filter, this.goneQueue);
  }

  deliver(o: Occupant, p: PreparedStanza): void {
    for (const s of o.sessions.values()) this.deliverToSession(s, p);
  }

  deliverToSession(s: OccupantSession, p: PreparedStanza): void {
    if (!this.router.deliverPrepared(s.full, p)) this.goneQueue.push(s.full);
  }

  /** Sessions that vanished without leaving (nobody took a delivery): remove them after the current fan-out. */
  flushGone(): void {
    let guard = 0;
    while (this.goneQueue.length && guard++ < 10000) {
      const full = this.goneQueue.shift()!;
      const occ = this.bySession.get(full);
      if (occ) this.removeSession(occ, full, { codes: ['333'], payload: [] }, false);
    }
    this.goneQueue.length = 0;
  }

  // ---- the operations features call (each concern's module does the work) -----------------------------------

  /** Checks a nickname; XEP-0045 §7.2.9 lets a room refuse nicks that fail its rules. */
  validateNick(nick: string): void {
    this.members.validateNick(nick);
  }
  join(stanza: Element, from: JID, nick: string, created: boolean): void {
    this.members.join(stanza, from, nick, created);
  }
  /** One session leaves; the occupant leaves with its last session. */
  removeSession(occ: Occupant, full: string, opts: RemoveOptions, tellSelf = true): void {
    this.members.removeSession(occ, full, opts, tellSelf);
  }
  /** Removes an occupant with all its sessions, telling it (110) and the others (unless selfOnly). */
  removeOccupant(occ: Occupant, opts: RemoveOptions, tellSelf = true): void {
    this.members.removeOccupant(occ, opts, tellSelf);
  }

  /** Changes an occupant's role; 'none' kicks (307). `actor` is the acting occupant, if any. */
  setRole(occ: Occupant, role: Role, actor?: Occupant, reason?: string): void {
    this.admin.setRole(occ, role, actor, reason);
  }
  setAffiliation(
    bare: string,
    affiliation: Affiliation,
    opts: { actor?: Occupant; actorJid?: string; reason?: string; nick?: string; item?: Element } = {},
  ): void {
    this.admin.setAffiliation(bare, affiliation, opts);
  }
  /** Tells every occupant the status codes of a configuration change (104, 170–173…). */
  announceCodes(codes: Iterable<string>): void {
    this.admin.announceCodes(codes);
  }
  /** Destroys the room: every occupant gets its own unavailable presence with <destroy/> (XEP-0045 §10.9). */
  destroy(reason?: string, alternate?: string, password?: string): void {
    this.admin.destroy(reason, alternate, password);
  }
  /** Service shutdown (332): occupants are told they left, the room stays as it is stored. */
  shutdown(): void {
    this.admin.shutdown();
  }

  /** Whether a groupchat message belongs in history and the archive. */
  static isHistoric(stanza: Element): boolean {
    return isHistoric(stanza);
  }
  /** Relays a groupchat message from an occupant to everyone (after the `groupchat` hooks accepted it). */
  broadcastGroupchat(occ: Occupant, stanza: Element): GroupchatOutEvent {
    return this.messages.broadcastGroupchat(occ, stanza);
  }
  /** A message from the room itself (status codes, retractions) to every occupant. */
  broadcastRoomMessage(children: Element[], attrs: Record<string, string> = {}): void {
    this.messages.broadcastRoomMessage(children, attrs);
  }
}

/** XEP-0421: a stable, opaque id per real bare JID and room that reveals nothing about the JID. */
export function occupantId(salt: string, roomJid: string, bare: string): string {
  if (salt.startsWith(PROSODY_SALT_PREFIX)) return prosodyOccupantId(salt.slice(PROSODY_SALT_PREFIX.length), bare);
  const id = digest('sha256', `${salt}\0${roomJid}\0${bare}`, 'base64url').slice(0, 22);
  // Kept by the occupant for as long as it stays: its own 22 characters, not a view of the 43-character digest.
  return ownCopy(id);
}

/** Parses an attribute holding a JID, rejecting malformed ones with a stanza error. */
export function requireJid(v: string | undefined): JID {
  const j = parseJid(v);
  if (!j) throw new StanzaError('jid-malformed', undefined, 'modify');
  return j;
}
