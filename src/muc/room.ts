// The room core: occupants, roles and affiliations, presence and message fan-out. Everything optional (passwords,
// members-only, history, subject, moderation…) lives in one file per feature under ./features, hooking the typed
// events declared here.
import { createHash } from 'node:crypto';
import { Element, el } from '../xmpp/xml.js';
import { parseJid, type JID } from '../xmpp/jid.js';
import { StanzaError, errorElement, errorReply } from '../xmpp/errors.js';
import { PreparedStanza } from '../xmpp/prepared.js';
import type { Router } from '../xmpp/router.js';
import type { Logger } from '../log.js';
import type { Hooks } from './hooks.js';
import type { MucConfig } from './config.js';
import { isArchivable, type RoomArchive } from './archive.js';
import type { FormField } from './forms.js';
import { Occupant, type OccupantSession, type View } from './occupant.js';
import { leavePayload, mucUserX, presencePayload, type ItemDetails } from './presence.js';
import { AFF_RANK, MUC_NS, type Affiliation, type AffiliationEntry, type Role, type RoomConfig } from './types.js';

// ---- events ------------------------------------------------------------------------------------------------

export interface JoinEvent {
  room: Room;
  stanza: Element;
  from: JID;
  bareJid: string;
  nick: string;
  /** The <x xmlns=muc/> of the join, if any (password, history limits). */
  x: Element | undefined;
  affiliation: Affiliation;
  /** Role the occupant will get; pre-join handlers may lower it (moderated rooms). */
  role: Role;
  /** This join created the room. */
  created: boolean;
  /** Extra status codes for the self-presence (100, 201, 210…). */
  codes: Set<string>;
  /** Set for `join`: the occupant and the session that joined (history and subject go to it). */
  occupant?: Occupant;
  session?: OccupantSession;
  /** A joined session re-sent its join presence: repeat self-presence, history and subject. */
  resync?: boolean;
}

export interface LeaveEvent { room: Room; occupant: Occupant; codes: string[] }
export interface NickChangeEvent { room: Room; occupant: Occupant; from: JID; oldNick: string; newNick: string }
export interface GroupchatEvent { room: Room; occupant: Occupant; stanza: Element; from: JID }
export interface GroupchatOutEvent {
  room: Room;
  occupant: Occupant;
  /** The copy being broadcast; decorate it (occupant-id, stanza-id). */
  stanza: Element;
  original: Element;
  /** Kept in history and archive (has a body or a store hint). */
  historic: boolean;
  /** Assigned by stanza-id.ts when archived. */
  stanzaId?: string;
}
export interface PrivateMessageEvent { room: Room; occupant: Occupant; target: Occupant; stanza: Element }
export interface RoomMessageEvent { room: Room; stanza: Element; from: JID; occupant?: Occupant }
export interface PresenceOutEvent { room: Room; occupant: Occupant; stanza: Element; view: View | 'self' }
/** The occupant list was just sent to a session (before its self-presence): features may append presences. */
export interface RosterEvent { room: Room; occupant: Occupant; session: OccupantSession; view: View }
export interface ConfigFormEvent { room: Room; fields: FormField[]; actor?: string }
export interface ConfigSubmittedEvent {
  room: Room;
  fields: Map<string, string[]>;
  /** Status codes to announce (104 when anything changed; 170–173…). */
  codes: Set<string>;
  actor: string;
}
export interface ConfigChangedEvent { room: Room; codes: Set<string>; actor: string; before: RoomConfig }
export interface DiscoInfoEvent { room: Room; features: Set<string>; fields: FormField[]; from: string }
export interface RoleChangedEvent { room: Room; occupant: Occupant; oldRole: Role; newRole: Role }
export interface AffiliationChangedEvent {
  room: Room; bareJid: string; oldAffiliation: Affiliation; newAffiliation: Affiliation; actor?: string;
  /** The muc#admin <item/> that asked for it, so features can read extensions (a ban's expiry). */
  item?: Element;
}
export interface OccupantIqEvent { room: Room; stanza: Element; from: JID; payload: Element | undefined; sender?: Occupant; target?: Occupant }
export interface RoomEvent { room: Room }

export interface MucEvents {
  'pre-join': JoinEvent;
  'join': JoinEvent;
  'leave': LeaveEvent;
  'pre-nick-change': NickChangeEvent;
  'groupchat': GroupchatEvent;
  'groupchat-out': GroupchatOutEvent;
  'groupchat-sent': GroupchatOutEvent;
  'private-message': PrivateMessageEvent;
  'room-message': RoomMessageEvent;
  'presence-out': PresenceOutEvent;
  'roster': RosterEvent;
  'config-form': ConfigFormEvent;
  'config-submitted': ConfigSubmittedEvent;
  'config-changed': ConfigChangedEvent;
  'disco-info': DiscoInfoEvent;
  'role-changed': RoleChangedEvent;
  'affiliation-changed': AffiliationChangedEvent;
  'occupant-iq': OccupantIqEvent;
  'created': RoomEvent;
  /** A persistent room was loaded from disk at start (features resume timers kept in room.data). */
  'restored': RoomEvent;
  'destroyed': RoomEvent;
}

// ---- iq handlers on the room's bare JID ------------------------------------------------------------------------

export interface RoomIqContext {
  room: Room; stanza: Element; payload: Element; from: JID; occupant?: Occupant;
  /** Sends the result now (when later stanzas must follow it); the handler's return value is then ignored. */
  reply(payload?: Element): void;
}
export type RoomIqHandler = (ctx: RoomIqContext) => Element | void | Promise<Element | void>;

export class RoomIqRoutes {
  private map = new Map<string, RoomIqHandler>();
  register(name: string, xmlns: string, type: 'get' | 'set', h: RoomIqHandler): void {
    const k = `${type} ${name} ${xmlns}`;
    if (this.map.has(k)) throw new Error(`room iq ${k} registered twice`);
    this.map.set(k, h);
  }
  find(type: string, payload: Element): RoomIqHandler | undefined {
    return this.map.get(`${type} ${payload.name} ${payload.attrs.xmlns ?? ''}`);
  }
}

/** What a room needs from its service. */
export interface RoomHost {
  readonly router: Router;
  readonly hooks: Hooks<MucEvents>;
  readonly iq: RoomIqRoutes;
  readonly config: MucConfig;
  readonly archive: RoomArchive;
  readonly log: Logger;
  isServerAdmin(bare: string): boolean;
  /** Config, affiliations or subject changed: save if persistent (or forget if no longer). */
  persist(room: Room): void;
  /** The last occupant left. */
  roomEmpty(room: Room): void;
  roomDestroyed(room: Room): void;
  occupantSessionAdded(room: Room, full: string): void;
  occupantSessionRemoved(room: Room, full: string): void;
}

export interface Subject { text: string; nick: string; ts: number }

export interface RemoveOptions {
  codes?: string[];
  details?: ItemDetails;
  /** Extra payload of the unavailable presence (the leaver's status text). */
  payload?: Element[];
  /** Only the occupant learns of it (room destruction). */
  selfOnly?: boolean;
  destroy?: Element;
}

const IGNORABLE = /[\p{Cc}\p{Cs}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}]/u;

// ---- the room ----------------------------------------------------------------------------------------------

export class Room {
  readonly jid: string;
  readonly occupants = new Map<string, Occupant>();
  /** Real full JID → occupant. */
  readonly bySession = new Map<string, Occupant>();
  readonly affiliations = new Map<string, AffiliationEntry>();
  subject: Subject = { text: '', nick: '', ts: 0 };
  destroyed = false;
  /** Per-room secret for XEP-0421 occupant-ids. */
  occupantIdSalt = '';
  /** Feature state saved with the room (current poll, room terms…), one key per feature; JSON values only. */
  data: Record<string, unknown> = {};
  private goneQueue: string[] = [];
  private pendingIq = new Map<string, { from: string; id: string; to: string }>();
  private iqCounter = 0;

  constructor(readonly localpart: string, readonly host: RoomHost, public config: RoomConfig) {
    this.jid = `${localpart}@${host.config.host}`;
  }

  get router(): Router { return this.host.router; }
  get hooks(): Hooks<MucEvents> { return this.host.hooks; }
  get occupantCount(): number { return this.occupants.size; }

  // ---- roles and affiliations ------------------------------------------------------------------------------

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

  occupantOf(full: string): Occupant | undefined { return this.bySession.get(full); }

  occupantsOf(bare: string): Occupant[] {
    const out: Occupant[] = [];
    for (const o of this.occupants.values()) if (o.bareJid === bare) out.push(o);
    return out;
  }

  nickJid(nick: string): string { return `${this.jid}/${nick}`; }

  /** Real JIDs are shown to moderators, or to everyone in non-anonymous rooms. */
  canSeeJids(o: Occupant | undefined): boolean {
    return this.config.whois === 'anyone' || o?.role === 'moderator';
  }

  // ---- stanza entry points ---------------------------------------------------------------------------------

  receive(stanza: Element, from: JID, to: JID): void {
    if (this.destroyed) {
      this.bounce(stanza, new StanzaError('item-not-found'));
      return;
    }
    try {
      if (stanza.name === 'presence') this.onPresence(stanza, from, to);
      else if (stanza.name === 'message') this.onMessage(stanza, from, to);
      else if (stanza.name === 'iq') this.onIq(stanza, from, to);
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
      reply.append(errorElement(err.condition, err.text, err.type, stanza.attrs.type === 'probe' ? undefined : this.jid, err.appCondition));
    } else {
      const e = reply.getChild('error');
      if (e) e.attrs.by = this.jid;
    }
    if (fromOverride) reply.attrs.from = fromOverride;
    delete reply.attrs.xmlns;
    this.router.route(reply);
  }

  // ---- presence ------------------------------------------------------------------------------------------

  private onPresence(stanza: Element, from: JID, to: JID): void {
    const type = stanza.attrs.type;
    const full = from.toString();
    const occ = this.bySession.get(full);
    if (type === 'unavailable') {
      if (occ) this.removeSession(occ, full, { payload: leavePayload(stanza) });
      return;
    }
    if (type === 'error') {
      // issue 978: a client bouncing our presence is gone; tell the others why.
      if (occ) {
        const cond = stanza.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === MUC_NS.STANZAS && c.name !== 'text');
        const text = stanza.getChild('error')?.getChildText('text', MUC_NS.STANZAS);
        const why = `Kicked: ${(cond?.name ?? 'error').replace(/-/g, ' ')}${text ? `: ${text}` : ''}`;
        // Only that session is gone; the occupant stays while it has others (their presence lists one item less).
        if (occ.sessions.size > 1) this.removeSession(occ, full, {}, false);
        else this.removeOccupant(occ, { codes: ['333'], payload: [el('status', {}, why)] });
      }
      return;
    }
    if (type === 'probe') {
      this.onProbe(stanza, from, to, occ);
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
    if (!nick || Buffer.byteLength(nick) > 1023 || nick.trim() !== nick || IGNORABLE.test(nick) || nick.normalize('NFC') !== nick) {
      throw new StanzaError('jid-malformed', 'Nickname must pass strict validation', 'modify');
    }
  }

  join(stanza: Element, from: JID, nick: string, created: boolean): void {
    const full = from.toString();
    const bare = from.bare().toString();
    try {
      this.validateNick(nick);
    } catch (err) {
      this.bounce(stanza, err as StanzaError, `${this.jid}/${nick.replace(new RegExp(IGNORABLE.source, 'gu'), '')}`);
      return;
    }
    const affiliation = this.affiliationOf(bare);
    const ev: JoinEvent = {
      room: this, stanza, from, bareJid: bare, nick, x: stanza.getChild('x', MUC_NS.MUC),
      affiliation, role: this.defaultRole(affiliation), created, codes: new Set(created ? ['201'] : []),
    };
    if (affiliation === 'outcast') throw new StanzaError('forbidden', 'You have been banned from this room', 'auth');
    const existing = this.occupants.get(nick);
    if (existing && existing.bareJid !== bare) throw new StanzaError('conflict', undefined, 'cancel');
    if (!existing && this.occupants.size >= this.host.config.maxOccupants) {
      throw new StanzaError('service-unavailable', 'The room is full', 'wait');
    }
    this.hooks.fire('pre-join', ev);

    const session: OccupantSession = { jid: from, full, presence: stanza };
    let occ = existing;
    if (occ) {
      // Another session of the same user takes the same nick: it joins the occupant (multi-session nick,
      // XEP-0045 §7.2.9). Only the views listing real JIDs change (one <item/> more).
      occ.sessions.set(full, session);
      this.bySession.set(full, occ);
      this.host.occupantSessionAdded(this, full);
      occ.invalidate();
      this.sendRoster(occ, session);
      this.sendSelfPresence(occ, session, [...ev.codes]);
      for (const s of occ.sessions.values()) if (s !== session) this.sendSelfPresence(occ, s, []);
      this.broadcastPresence(occ, undefined, true);
    } else {
      occ = new Occupant(nick, bare, ev.role, this.occupantIdFor(bare));
      occ.sessions.set(full, session);
      this.occupants.set(nick, occ);
      this.bySession.set(full, occ);
      this.host.occupantSessionAdded(this, full);
      this.sendRoster(occ, session);
      this.sendSelfPresence(occ, session, [...ev.codes]);
      this.broadcastPresence(occ);
    }
    ev.occupant = occ;
    ev.session = session;
    this.hooks.fire('join', ev);
  }

  private resync(stanza: Element, occ: Occupant, full: string): void {
    const session = occ.sessions.get(full)!;
    session.presence = stanza;
    occ.invalidate();
    const ev: JoinEvent = {
      room: this, stanza, from: session.jid, bareJid: occ.bareJid, nick: occ.nick, x: stanza.getChild('x', MUC_NS.MUC),
      affiliation: this.affiliationOf(occ.bareJid), role: occ.role, created: false, codes: new Set(), occupant: occ, session, resync: true,
    };
    this.sendRoster(occ, session);
    this.sendSelfPresence(occ, session, []);
    this.hooks.fire('join', ev);
  }

  private updatePresence(occ: Occupant, full: string, stanza: Element): void {
    const s = occ.sessions.get(full)!;
    s.presence = stanza;
    if (s !== occ.primary) return; // only the primary session's presence represents the occupant
    occ.invalidate();
    this.sendSelfPresenceAll(occ, []);
    this.broadcastPresence(occ);
  }

  private changeNick(occ: Occupant, from: JID, nick: string, stanza: Element): void {
    try {
      this.validateNick(nick);
    } catch (err) {
      this.bounce(stanza, err as StanzaError);
      return;
    }
    const taken = this.occupants.get(nick);
    if (taken && taken.bareJid !== occ.bareJid) throw new StanzaError('conflict', undefined, 'cancel');
    const ev: NickChangeEvent = { room: this, occupant: occ, from, oldNick: occ.nick, newNick: nick };
    this.hooks.fire('pre-nick-change', ev);
    if (taken || occ.sessions.size > 1) {
      if (!taken && this.occupants.size >= this.host.config.maxOccupants) throw new StanzaError('service-unavailable', 'The room is full', 'wait');
      this.moveSession(occ, from.toString(), nick, stanza, taken);
      return;
    }
    const session = occ.primary;
    // 303: unavailable from the old nick carrying the new one, then available from the new nick.
    this.sendSelfPresenceAll(occ, ['303'], { type: 'unavailable', details: { nick }, role: occ.role });
    this.broadcastPresence(occ, { type: 'unavailable', codes: ['303'], details: { nick }, payload: [] });
    this.occupants.delete(occ.nick);
    occ.nick = nick;
    this.occupants.set(nick, occ);
    session.presence = stanza;
    occ.invalidate();
    this.sendSelfPresenceAll(occ, []);
    this.broadcastPresence(occ);
  }

  /**
   * One session of a multi-session occupant changes nick, or a session moves into its user's occupant under another
   * nick: that session alone moves and sees its own 303; the old nick stays with the other sessions (or leaves).
   */
  private moveSession(occ: Occupant, full: string, nick: string, stanza: Element, dest: Occupant | undefined): void {
    const session = occ.sessions.get(full)!;
    const role = occ.role;
    this.sendSelfPresence(occ, session, ['303'], { type: 'unavailable', details: { nick }, role, payload: [], jids: [full] });
    if (occ.sessions.size > 1) this.removeSession(occ, full, {}, false);
    else this.removeOccupant(occ, {}, false);
    session.presence = stanza;
    let target = dest;
    if (!target) {
      target = new Occupant(nick, occ.bareJid, role, occ.occupantId);
      this.occupants.set(nick, target);
    }
    target.sessions.set(full, session);
    this.bySession.set(full, target);
    this.host.occupantSessionAdded(this, full);
    target.invalidate();
    this.sendSelfPresence(target, session, []);
    for (const s of target.sessions.values()) if (s !== session) this.sendSelfPresence(target, s, []);
    // A new occupant is news to everyone; an extra session of an existing one only to those seeing real JIDs.
    this.broadcastPresence(target, undefined, !!dest);
  }

  private onProbe(stanza: Element, from: JID, to: JID, prober: Occupant | undefined): void {
    if (!prober) throw new StanzaError('not-acceptable', undefined, 'cancel');
    const target = to.resource ? this.occupants.get(to.resource) : undefined;
    const session = prober.sessions.get(from.toString())!;
    if (target) {
      const p = this.buildPresence(target, this.canSeeJids(prober) ? 'full' : 'anon');
      this.deliverToSession(session, new PreparedStanza(p));
      return;
    }
    // Someone with a reserved nick who is not here: say so (Prosody #1535).
    for (const [bare, entry] of this.affiliations) {
      if (entry.nick === to.resource) {
        const x = mucUserX({ affiliation: entry.affiliation, role: 'none', jids: this.canSeeJids(prober) ? [bare] : undefined, details: { nick: entry.nick } });
        this.router.route(el('presence', { from: to.toString(), to: session.full, type: 'unavailable' }, x));
        return;
      }
    }
  }

  // ---- presence building and fan-out ----------------------------------------------------------------------

  buildPresence(occ: Occupant, view: View | 'self', opts: {
    type?: 'unavailable'; codes?: Iterable<string>; details?: ItemDetails; payload?: Element[]; role?: Role; selfJid?: string; destroy?: Element;
    /** Overrides the sessions listed (a session leaving a multi-session occupant sees only itself). */
    jids?: string[];
  } = {}): Element {
    const affiliation = this.affiliationOf(occ.bareJid);
    // One <item/> per session where real JIDs may be seen (XEP-0045 §7.2.9 multi-session nicks); the receiving
    // session's own JID comes first in its self-presence, as clients read the first item.
    let jids: string[] | undefined = opts.jids;
    if (!jids && view !== 'anon') {
      jids = [...occ.sessions.keys()];
      const first = view === 'self' ? opts.selfJid : undefined;
      if (first && jids[0] !== first && jids.includes(first)) jids = [first, ...jids.filter((j) => j !== first)];
    }
    const p = el('presence', { from: this.nickJid(occ.nick), type: opts.type });
    for (const c of opts.payload ?? presencePayload(occ.primary?.presence)) p.append(c);
    p.append(mucUserX({
      affiliation, role: opts.role ?? occ.role, jids, codes: opts.codes, self: view === 'self', details: opts.details,
      // The actor's real JID only in others' full view: one's own presence names the actor by nick (as Prosody does).
      destroy: opts.destroy, showActorJid: view === 'full',
    }));
    this.hooks.fire('presence-out', { room: this, occupant: occ, stanza: p, view });
    return p;
  }

  /** The occupant's current available presence for a view, serialized once and cached. */
  presenceView(occ: Occupant, view: View): PreparedStanza {
    let p = occ.cachedView(view);
    if (!p) {
      p = new PreparedStanza(this.buildPresence(occ, view));
      occ.cacheView(view, p);
    }
    return p;
  }

  /** Whether `recipient` gets presences of occupants in `role` (muc#roomconfig_presencebroadcast). */
  seesPresenceOf(role: Role, recipient: Occupant): boolean {
    if (this.config.presenceBroadcast.includes(role)) return true;
    return recipient.role === 'moderator' && this.host.config.moderatorsSeeAllPresences;
  }

  /** Sends every visible occupant's presence to a new session (the join roster). */
  sendRoster(to: Occupant, session: OccupantSession): void {
    const view: View = this.canSeeJids(to) ? 'full' : 'anon';
    for (const o of this.occupants.values()) {
      if (o === to || !this.seesPresenceOf(o.role, to)) continue;
      this.deliverToSession(session, this.presenceView(o, view));
    }
    this.hooks.fire('roster', { room: this, occupant: to, session, view });
  }

  sendSelfPresence(occ: Occupant, session: OccupantSession, codes: string[], opts: { type?: 'unavailable'; details?: ItemDetails; role?: Role; payload?: Element[]; destroy?: Element; jids?: string[] } = {}): void {
    const p = this.buildPresence(occ, 'self', { ...opts, codes, selfJid: session.full });
    p.attrs.to = session.full;
    this.router.route(p);
  }

  sendSelfPresenceAll(occ: Occupant, codes: string[], opts: { type?: 'unavailable'; details?: ItemDetails; role?: Role; payload?: Element[]; destroy?: Element } = {}): void {
    for (const s of occ.sessions.values()) this.sendSelfPresence(occ, s, codes, opts);
  }

  /**
   * Broadcasts `occ`'s presence to everyone else: built once per view (with or without real JIDs) and serialized
   * once per view. Without options it is the occupant's current available presence (cached).
   */
  broadcastPresence(occ: Occupant, opts?: { type?: 'unavailable'; codes?: string[]; details?: ItemDetails; payload?: Element[]; role?: Role }, fullViewOnly = false): void {
    const role = opts?.role ?? occ.role;
    let full: PreparedStanza | undefined;
    let anon: PreparedStanza | undefined;
    const get = (view: View): PreparedStanza => {
      if (!opts) return this.presenceView(occ, view);
      if (view === 'full') return (full ??= new PreparedStanza(this.buildPresence(occ, 'full', opts)));
      if (this.config.whois === 'anyone') return get('full');
      return (anon ??= new PreparedStanza(this.buildPresence(occ, 'anon', opts)));
    };
    for (const o of this.occupants.values()) {
      if (o === occ || !this.seesPresenceOf(role, o)) continue;
      const view: View = this.canSeeJids(o) ? 'full' : 'anon';
      if (fullViewOnly && view === 'anon') continue;
      this.deliver(o, get(view));
    }
  }

  /** Sends a prepared stanza to every session of every occupant (the message fan-out). */
  broadcast(p: PreparedStanza, filter?: (o: Occupant) => boolean): void {
    for (const o of this.occupants.values()) {
      if (filter && !filter(o)) continue;
      this.deliver(o, p);
    }
  }

  /** Builds the element for each view lazily and sends it to the occupants `filter` accepts. */
  broadcastViews(build: (view: View) => Element, filter?: (o: Occupant) => boolean): void {
    let full: PreparedStanza | undefined;
    let anon: PreparedStanza | undefined;
    for (const o of this.occupants.values()) {
      if (filter && !filter(o)) continue;
      const p = this.canSeeJids(o) ? (full ??= new PreparedStanza(build('full'))) : (anon ??= new PreparedStanza(build('anon')));
      this.deliver(o, p);
    }
  }

  deliver(o: Occupant, p: PreparedStanza): void {
    for (const s of o.sessions.values()) this.deliverToSession(s, p);
  }

  deliverToSession(s: OccupantSession, p: PreparedStanza): void {
    if (!this.router.deliverPrepared(s.full, p)) this.goneQueue.push(s.full);
  }

  /** Sessions that vanished without leaving (nobody took a delivery): remove them after the current fan-out. */
  private flushGone(): void {
    let guard = 0;
    while (this.goneQueue.length && guard++ < 10000) {
      const full = this.goneQueue.shift()!;
      const occ = this.bySession.get(full);
      if (occ) this.removeSession(occ, full, { codes: ['333'], payload: [] }, false);
    }
    this.goneQueue.length = 0;
  }

  // ---- leaving ---------------------------------------------------------------------------------------------

  /** One session leaves; the occupant leaves with its last session. */
  removeSession(occ: Occupant, full: string, opts: RemoveOptions, tellSelf = true): void {
    const session = occ.sessions.get(full);
    if (!session) return;
    if (occ.sessions.size > 1) {
      if (tellSelf) this.sendSelfPresence(occ, session, opts.codes ?? [], { type: 'unavailable', role: 'none', payload: opts.payload ?? [], jids: [full] });
      const wasPrimary = session === occ.primary;
      occ.sessions.delete(full);
      this.bySession.delete(full);
      this.host.occupantSessionRemoved(this, full);
      // The occupant stays: its remaining sessions and those seeing real JIDs get the shorter item list; everyone
      // else only when the presence payload (the primary session's) changed.
      occ.invalidate();
      this.sendSelfPresenceAll(occ, []);
      this.broadcastPresence(occ, undefined, !wasPrimary);
      return;
    }
    this.removeOccupant(occ, opts, tellSelf);
  }

  /** Removes an occupant with all its sessions, telling it (110) and the others (unless selfOnly). */
  removeOccupant(occ: Occupant, opts: RemoveOptions, tellSelf = true): void {
    if (this.occupants.get(occ.nick) !== occ) return;
    const codes = opts.codes ?? [];
    const payload = opts.payload ?? [];
    if (tellSelf) {
      for (const s of occ.sessions.values()) {
        if (this.goneQueue.includes(s.full)) continue;
        this.sendSelfPresence(occ, s, codes, { type: 'unavailable', role: 'none', details: opts.details, payload, destroy: opts.destroy });
      }
    }
    const oldRole = occ.role;
    this.occupants.delete(occ.nick);
    for (const full of occ.sessions.keys()) {
      this.bySession.delete(full);
      this.host.occupantSessionRemoved(this, full);
    }
    if (!opts.selfOnly) {
      // Visibility follows the role the leaver had, so limited broadcasts stay limited on the way out.
      let full: PreparedStanza | undefined;
      let anon: PreparedStanza | undefined;
      const build = (view: View) => this.buildPresence(occ, view, { type: 'unavailable', codes, details: opts.details, payload, role: 'none' });
      for (const o of this.occupants.values()) {
        if (!this.seesPresenceOf(oldRole, o)) continue;
        const p = this.canSeeJids(o) ? (full ??= new PreparedStanza(build('full'))) : (anon ??= new PreparedStanza(build('anon')));
        this.deliver(o, p);
      }
    }
    occ.role = 'none';
    this.hooks.fire('leave', { room: this, occupant: occ, codes });
    if (this.occupants.size === 0 && !this.destroyed) this.host.roomEmpty(this);
  }

  // ---- role and affiliation changes ----------------------------------------------------------------------

  /** Changes an occupant's role; 'none' kicks (307). `actor` is the acting occupant, if any. */
  setRole(occ: Occupant, role: Role, actor?: Occupant, reason?: string): void {
    const details: ItemDetails = { actor: actor ? { nick: actor.nick, jid: actor.primary.full } : undefined, reason };
    if (role === 'none') {
      this.removeOccupant(occ, { codes: ['307'], details });
      return;
    }
    const oldRole = occ.role;
    if (oldRole === role) return;
    occ.role = role;
    this.announceChange(occ, details, oldRole);
    this.hooks.fire('role-changed', { room: this, occupant: occ, oldRole, newRole: role });
    // A new moderator now sees real JIDs and limited presences: give it the full roster.
    if (role === 'moderator' && (!this.canSeeJidsForRole(oldRole) || !this.config.presenceBroadcast.includes('participant') || !this.config.presenceBroadcast.includes('visitor'))) {
      for (const s of occ.sessions.values()) this.sendRoster(occ, s);
    }
  }

  private canSeeJidsForRole(role: Role): boolean { return this.config.whois === 'anyone' || role === 'moderator'; }

  /** Presence after a role or affiliation change: to the occupant (110) and to those who see it. */
  private announceChange(occ: Occupant, details: ItemDetails, oldRole: Role): void {
    occ.invalidate();
    this.sendSelfPresenceAll(occ, [], { details });
    let full: PreparedStanza | undefined;
    let anon: PreparedStanza | undefined;
    const build = (view: View) => this.buildPresence(occ, view, { details });
    for (const o of this.occupants.values()) {
      if (o === occ) continue;
      if (!this.seesPresenceOf(occ.role, o) && !this.seesPresenceOf(oldRole, o)) continue;
      const p = this.canSeeJids(o) ? (full ??= new PreparedStanza(build('full'))) : (anon ??= new PreparedStanza(build('anon')));
      this.deliver(o, p);
    }
  }

  /**
   * Sets a bare JID's affiliation and applies it to its occupants: bans remove them (301), losing membership in a
   * members-only room removes them (321), otherwise their role follows. Non-occupants are announced by message.
   */
  setAffiliation(bare: string, affiliation: Affiliation, opts: { actor?: Occupant; actorJid?: string; reason?: string; nick?: string; item?: Element } = {}): void {
    const old = this.affiliationOf(bare);
    const prevEntry = this.affiliations.get(bare);
    if (affiliation === 'none') this.affiliations.delete(bare);
    else this.affiliations.set(bare, { affiliation, nick: opts.nick ?? prevEntry?.nick, reason: opts.reason });
    const actorDetails = opts.actor ? { nick: opts.actor.nick, jid: opts.actor.primary.full } : undefined;
    const details: ItemDetails = { actor: actorDetails, reason: opts.reason };
    const here = this.occupantsOf(bare);
    for (const occ of here) {
      if (affiliation === 'outcast') {
        this.removeOccupant(occ, { codes: ['301'], details });
      } else if (this.config.membersOnly && AFF_RANK[affiliation] < AFF_RANK.member) {
        this.removeOccupant(occ, { codes: ['321'], details });
      } else {
        const oldRole = occ.role;
        // Keep a moderator-granted voice/visitor state unless the affiliation dictates otherwise.
        let role = this.defaultRole(affiliation);
        if (role === 'participant' && oldRole === 'moderator' && AFF_RANK[old] < AFF_RANK.admin) role = 'moderator';
        occ.role = role;
        this.announceChange(occ, details, oldRole);
        if (oldRole !== role) this.hooks.fire('role-changed', { room: this, occupant: occ, oldRole, newRole: role });
      }
    }
    this.hooks.fire('affiliation-changed', { room: this, bareJid: bare, oldAffiliation: old, newAffiliation: affiliation, actor: opts.actorJid, item: opts.item });
    if (here.length === 0) this.announceAffiliation(bare, affiliation, opts.reason);
    this.host.persist(this);
  }

  /** XEP-0045 §9.x: an affiliation change of someone not in the room, told to those who may see real JIDs. */
  private announceAffiliation(bare: string, affiliation: Affiliation, reason?: string): void {
    const item = el('item', { jid: bare, affiliation }, reason ? el('reason', {}, reason) : undefined);
    const x = el('x', { xmlns: MUC_NS.USER }, affiliation === 'outcast' ? el('status', { code: '301' }) : undefined, item);
    const p = new PreparedStanza(el('message', { from: this.jid }, x));
    this.broadcast(p, (o) => this.canSeeJids(o));
  }

  // ---- messages ----------------------------------------------------------------------------------------------

  private onMessage(stanza: Element, from: JID, to: JID): void {
    const type = stanza.attrs.type ?? 'normal';
    const occ = this.bySession.get(from.toString());
    if (type === 'error') {
      return; // errors about messages we relayed: nothing to answer
    }
    if (to.resource) {
      this.privateMessage(stanza, from, to.resource, occ);
      return;
    }
    if (type !== 'groupchat') {
      if (!this.hooks.fire('room-message', { room: this, stanza, from, occupant: occ })) {
        if (type !== 'normal' || stanza.getChild('body')) throw new StanzaError('bad-request', undefined, 'modify');
      }
      return;
    }
    if (!occ) throw new StanzaError('not-acceptable', 'You are not currently connected to this chat', 'cancel');
    if (occ.role === 'none') throw new StanzaError('forbidden', undefined, 'auth');
    if (this.hooks.fire('groupchat', { room: this, occupant: occ, stanza, from })) return;
    this.broadcastGroupchat(occ, stanza);
  }

  /** Whether a groupchat message belongs in history and the archive. */
  static isHistoric(stanza: Element): boolean {
    return isArchivable(stanza); // XEP-0313/0334 rules: body, subject, store hint, retractions…; never no-store
  }

  /** Relays a groupchat message from an occupant to everyone (after the `groupchat` hooks accepted it). */
  broadcastGroupchat(occ: Occupant, stanza: Element): GroupchatOutEvent {
    const out = el('message', { from: this.nickJid(occ.nick), type: 'groupchat', id: stanza.attrs.id, 'xml:lang': stanza.attrs['xml:lang'] });
    for (const c of stanza.children) {
      if (typeof c === 'string') continue;
      const ns = c.attrs.xmlns;
      // Never relay a client's claim to a room-assigned id or occupant-id (XEP-0359 §3, XEP-0421 §4).
      if (c.name === 'stanza-id' && ns === MUC_NS.SID && c.attrs.by === this.jid) continue;
      if (c.name === 'occupant-id' && ns === MUC_NS.OCCUPANT_ID) continue;
      out.append(c);
    }
    const ev: GroupchatOutEvent = { room: this, occupant: occ, stanza: out, original: stanza, historic: Room.isHistoric(stanza) };
    this.hooks.fire('groupchat-out', ev);
    const p = new PreparedStanza(out);
    const durable = ev.stanzaId !== undefined ? this.host.archive.whenDurable?.(this.jid, ev.stanzaId) : null;
    if (durable) {
      // The reflection is the sender's receipt: it waits until the message is on disk (one batch); the others
      // get it at once. A message whose reflection reached its sender is never lost by a crash.
      this.broadcast(p, (o) => o !== occ);
      durable.then(() => {
        for (const s of occ.sessions.values()) if (this.bySession.get(s.full) === occ) this.deliverToSession(s, p);
        this.flushGone();
      }, () => undefined); // the room was deleted meanwhile
    } else {
      this.broadcast(p);
    }
    this.hooks.fire('groupchat-sent', ev);
    return ev;
  }

  /** A message from the room itself (status codes, retractions) to every occupant. */
  broadcastRoomMessage(children: Element[], attrs: Record<string, string> = {}): void {
    const m = el('message', { from: this.jid, type: 'groupchat', ...attrs }, ...children);
    this.broadcast(new PreparedStanza(m));
  }

  private privateMessage(stanza: Element, from: JID, nick: string, occ: Occupant | undefined): void {
    const type = stanza.attrs.type ?? 'normal';
    if (!occ) throw new StanzaError('not-acceptable', 'You are not currently connected to this chat', 'cancel');
    if (type === 'groupchat') throw new StanzaError('bad-request', 'Private messages must not be of type groupchat', 'modify');
    const target = this.occupants.get(nick);
    if (!target) throw new StanzaError('item-not-found', 'Recipient not in room', 'cancel');
    this.hooks.fire('private-message', { room: this, occupant: occ, target, stanza });
    const out = el('message', { ...stanza.attrs, from: this.nickJid(occ.nick), to: undefined, xmlns: undefined });
    for (const c of stanza.children) if (typeof c !== 'string' && !(c.name === 'x' && c.attrs.xmlns === MUC_NS.USER)) out.append(c);
    out.append(el('x', { xmlns: MUC_NS.USER }));
    this.deliver(target, new PreparedStanza(out));
  }

  // ---- iq -----------------------------------------------------------------------------------------------

  private onIq(stanza: Element, from: JID, to: JID): void {
    const type = stanza.attrs.type;
    const occ = this.bySession.get(from.toString());
    if (to.resource) {
      this.occupantIq(stanza, from, to.resource, occ);
      return;
    }
    if (type !== 'get' && type !== 'set') return;
    const payload = stanza.getChildElements()[0];
    if (!payload) throw new StanzaError('bad-request', undefined, 'modify');
    const handler = this.host.iq.find(type, payload);
    if (!handler) throw new StanzaError('service-unavailable', undefined, 'cancel');
    let replied = false;
    const reply = (r?: Element) => {
      if (replied) return;
      replied = true;
      this.router.route(el('iq', { type: 'result', id: stanza.attrs.id, from: this.jid, to: from.toString() }, r));
    };
    let result: Element | void | Promise<Element | void>;
    try {
      result = handler({ room: this, stanza, payload, from, occupant: occ, reply });
    } catch (err) {
      if (err instanceof StanzaError) { this.bounce(stanza, err); return; }
      throw err;
    }
    Promise.resolve(result).then(
      (r) => {
        reply(r ?? undefined);
        this.flushGone();
      },
      (err: unknown) => {
        if (err instanceof StanzaError) this.bounce(stanza, err);
        else {
          this.host.log.error(`muc iq handler failed: ${(err as Error)?.stack ?? err}`);
          this.bounce(stanza, new StanzaError('internal-server-error'));
        }
      },
    );
  }

  /** Iqs to room/nick: features first (self-ping), else forwarded to the occupant with the sender hidden. */
  private occupantIq(stanza: Element, from: JID, nick: string, sender: Occupant | undefined): void {
    const type = stanza.attrs.type;
    const target = this.occupants.get(nick);
    const payload = stanza.getChildElements()[0];
    if (type === 'result' || type === 'error') {
      this.iqReply(stanza, from);
      return;
    }
    if (this.hooks.fire('occupant-iq', { room: this, stanza, from, payload, sender, target })) return;
    if (!sender) throw new StanzaError('not-acceptable', 'You are not currently connected to this chat', 'cancel');
    if (!target) throw new StanzaError('item-not-found', undefined, 'cancel');
    // vCards belong to the account, not the session (XEP-0045 §17.3).
    const toJid = payload?.name === 'vCard' && payload.attrs.xmlns === MUC_NS.VCARD ? target.bareJid : target.primary.full;
    const id = `muc${++this.iqCounter}`;
    if (this.pendingIq.size > 1000) this.pendingIq.delete(this.pendingIq.keys().next().value as string);
    this.pendingIq.set(id, { from: from.toString(), id: stanza.attrs.id ?? '', to: nick });
    const fwd = el('iq', { type, id, from: this.nickJid(sender.nick), to: toJid }, ...stanza.getChildElements());
    this.router.route(fwd);
  }

  private iqReply(stanza: Element, from: JID): void {
    const pending = this.pendingIq.get(stanza.attrs.id ?? '');
    if (!pending) return;
    this.pendingIq.delete(stanza.attrs.id!);
    const target = this.occupants.get(pending.to);
    const fromNick = target && (target.bareJid === from.bare().toString()) ? this.nickJid(target.nick) : this.nickJid(pending.to);
    const reply = el('iq', { type: stanza.attrs.type, id: pending.id, from: fromNick, to: pending.from }, ...stanza.getChildElements());
    this.router.route(reply);
  }

  // ---- misc ----------------------------------------------------------------------------------------------

  occupantIdFor(bare: string): string {
    return occupantId(this.occupantIdSalt, this.jid, bare);
  }

  /** Tells every occupant the status codes of a configuration change (104, 170–173…). */
  announceCodes(codes: Iterable<string>): void {
    const x = el('x', { xmlns: MUC_NS.USER });
    for (const c of codes) x.append(el('status', { code: c }));
    if (x.children.length) this.broadcastRoomMessage([x]);
  }

  /** Destroys the room: every occupant gets its own unavailable presence with <destroy/> (XEP-0045 §10.9). */
  destroy(reason?: string, alternate?: string, password?: string): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const occ of [...this.occupants.values()]) {
      const d = el('destroy', { jid: alternate },
        reason !== undefined ? el('reason', {}, reason) : undefined,
        password ? el('password', {}, password) : undefined);
      this.removeOccupant(occ, { selfOnly: true, destroy: d });
    }
    this.hooks.fire('destroyed', { room: this });
    this.host.archive.dropRoom(this.jid);
    this.host.roomDestroyed(this);
  }

  /** Service shutdown (332): occupants are told they left, the room stays as it is stored. */
  shutdown(): void {
    for (const occ of [...this.occupants.values()]) this.removeOccupant(occ, { codes: ['332'], selfOnly: true });
  }
}


/** XEP-0421: a stable, opaque id per real bare JID and room that reveals nothing about the JID. */
export function occupantId(salt: string, roomJid: string, bare: string): string {
  return createHash('sha256').update(salt).update('\0').update(roomJid).update('\0').update(bare).digest('base64url').slice(0, 22);
}

/** Parses an attribute holding a JID, rejecting malformed ones with a stanza error. */
export function requireJid(v: string | undefined): JID {
  const j = parseJid(v);
  if (!j) throw new StanzaError('jid-malformed', undefined, 'modify');
  return j;
}
