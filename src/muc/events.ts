// The typed events of a room, fired on the service's hook bus (src/muc/hooks.ts); room features under ./features
// subscribe to them.
import type { Element } from '../xmpp/xml.js';
import type { JID } from '../xmpp/jid.js';
import type { PreparedStanza } from '../xmpp/prepared.js';
import type { FormField } from './forms.js';
import type { Occupant, OccupantSession, View } from './occupant.js';
import type { Affiliation, Role, RoomConfig } from './types.js';
import type { Room } from './room.js';

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

export interface LeaveEvent {
  room: Room;
  occupant: Occupant;
  codes: string[];
}
export interface NickChangeEvent {
  room: Room;
  occupant: Occupant;
  from: JID;
  oldNick: string;
  newNick: string;
}
export interface GroupchatEvent {
  room: Room;
  occupant: Occupant;
  stanza: Element;
  from: JID;
}
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
  /** Set by a feature to hold back the broadcast from some occupants (it delivers to them itself later). */
  recipients?: (o: Occupant) => boolean;
}
export interface PrivateMessageEvent {
  room: Room;
  occupant: Occupant;
  target: Occupant;
  stanza: Element;
}
export interface RoomMessageEvent {
  room: Room;
  stanza: Element;
  from: JID;
  occupant?: Occupant;
}
export interface PresenceOutEvent {
  room: Room;
  occupant: Occupant;
  stanza: Element;
  view: View | 'self';
}
/**
 * One copy of `occupant`'s presence about to reach `recipient` (a whole occupant, or one `session` of it for the join
 * roster, probes and self-presences). Return true to withhold it; replace `stanza` to hand this recipient a decorated
 * copy (the given one is shared with other recipients: never mutate it).
 */
export interface PresenceDeliverEvent {
  room: Room;
  occupant: Occupant;
  recipient: Occupant;
  session?: OccupantSession;
  view: View | 'self';
  stanza: PreparedStanza;
  unavailable: boolean;
}
/** The occupant list was just sent to a session (before its self-presence): features may append presences. */
export interface RosterEvent {
  room: Room;
  occupant: Occupant;
  session: OccupantSession;
  view: View;
}
export interface ConfigFormEvent {
  room: Room;
  fields: FormField[];
  actor?: string;
}
export interface ConfigSubmittedEvent {
  room: Room;
  fields: Map<string, string[]>;
  /** Status codes to announce (104 when anything changed; 170–173…). */
  codes: Set<string>;
  actor: string;
}
export interface ConfigChangedEvent {
  room: Room;
  codes: Set<string>;
  actor: string;
  before: RoomConfig;
}
export interface DiscoInfoEvent {
  room: Room;
  features: Set<string>;
  fields: FormField[];
  from: string;
}
export interface RoleChangedEvent {
  room: Room;
  occupant: Occupant;
  oldRole: Role;
  newRole: Role;
}
export interface AffiliationChangedEvent {
  room: Room;
  bareJid: string;
  oldAffiliation: Affiliation;
  newAffiliation: Affiliation;
  actor?: string;
  /** The muc#admin <item/> that asked for it, so features can read extensions (a ban's expiry). */
  item?: Element;
}
export interface OccupantIqEvent {
  room: Room;
  stanza: Element;
  from: JID;
  payload: Element | undefined;
  sender?: Occupant;
  target?: Occupant;
}
export interface RoomEvent {
  room: Room;
}

export interface MucEvents {
  'pre-join': JoinEvent;
  join: JoinEvent;
  leave: LeaveEvent;
  'pre-nick-change': NickChangeEvent;
  groupchat: GroupchatEvent;
  'groupchat-out': GroupchatOutEvent;
  'groupchat-sent': GroupchatOutEvent;
  'private-message': PrivateMessageEvent;
  'room-message': RoomMessageEvent;
  'presence-out': PresenceOutEvent;
  'presence-deliver': PresenceDeliverEvent;
  roster: RosterEvent;
  'config-form': ConfigFormEvent;
  'config-submitted': ConfigSubmittedEvent;
  'config-changed': ConfigChangedEvent;
  'disco-info': DiscoInfoEvent;
  'role-changed': RoleChangedEvent;
  'affiliation-changed': AffiliationChangedEvent;
  'occupant-iq': OccupantIqEvent;
  'moderate-message': ModerateMessageEvent;
  created: RoomEvent;
  /** A persistent room was loaded from disk at start (features resume timers kept in room.data). */
  restored: RoomEvent;
  destroyed: RoomEvent;
}
/** A moderator retracts a message: features may anonymize `by` (an occupant or the room JID) and the occupant-id. */
export interface ModerateMessageEvent {
  room: Room;
  moderator: Occupant;
  stanzaId: string;
  reason?: string;
  by: string;
  byOccupantId?: string;
}
