// Shared vocabulary of the MUC service: roles, affiliations, room configuration and the namespaces it speaks.

export type Role = 'moderator' | 'participant' | 'visitor' | 'none';
export type Affiliation = 'owner' | 'admin' | 'member' | 'none' | 'outcast';

export const ROLES: readonly Role[] = ['moderator', 'participant', 'visitor', 'none'];
export const AFFILIATIONS: readonly Affiliation[] = ['owner', 'admin', 'member', 'none', 'outcast'];

/** Rank used for "may A act on B" comparisons (XEP-0045 §5.2: higher affiliations cannot be acted on by lower). */
export const AFF_RANK: Record<Affiliation, number> = { outcast: -1, none: 0, member: 1, admin: 2, owner: 3 };
export const ROLE_RANK: Record<Role, number> = { none: 0, visitor: 1, participant: 2, moderator: 3 };

export type Whois = 'moderators' | 'anyone';
export type AllowPm = 'anyone' | 'participants' | 'moderators' | 'none';

/**
 * The stored room configuration. Every field here is owned by one feature file, which adds it to the config form
 * and reads it back; features added later may keep their own settings under other keys (index signature).
 */
export interface RoomConfig {
  name: string;
  description: string;
  lang: string;
  persistent: boolean;
  public: boolean;
  moderated: boolean;
  membersOnly: boolean;
  /** Empty string: no password. */
  password: string;
  /** 0: no limit beyond the service's. */
  maxUsers: number;
  whois: Whois;
  changeSubject: boolean;
  allowPm: AllowPm;
  /** Roles whose presence is broadcast to everyone; others reach only moderators (and themselves). */
  presenceBroadcast: Role[];
  historyLength: number;
  enableArchiving: boolean;
  allowInvites: boolean;
  [feature: string]: unknown;
}

export interface AffiliationEntry {
  affiliation: Exclude<Affiliation, 'none'>;
  /** Reserved nickname (XEP-0045 §7.10). */
  nick?: string;
  reason?: string;
}

export const MUC_NS = {
  MUC: 'http://jabber.org/protocol/muc',
  USER: 'http://jabber.org/protocol/muc#user',
  ADMIN: 'http://jabber.org/protocol/muc#admin',
  OWNER: 'http://jabber.org/protocol/muc#owner',
  ROOMCONFIG: 'http://jabber.org/protocol/muc#roomconfig',
  ROOMINFO: 'http://jabber.org/protocol/muc#roominfo',
  REGISTER_FORM: 'http://jabber.org/protocol/muc#register',
  STABLE_ID: 'http://jabber.org/protocol/muc#stable_id',
  SELF_PING: 'http://jabber.org/protocol/muc#self-ping-optimization',
  OCCUPANT_ID: 'urn:xmpp:occupant-id:0',
  SID: 'urn:xmpp:sid:0',
  DELAY: 'urn:xmpp:delay',
  DATA: 'jabber:x:data',
  DISCO_INFO: 'http://jabber.org/protocol/disco#info',
  DISCO_ITEMS: 'http://jabber.org/protocol/disco#items',
  PING: 'urn:xmpp:ping',
  CHATSTATES: 'http://jabber.org/protocol/chatstates',
  FASTEN: 'urn:xmpp:fasten:0',
  MODERATE_0: 'urn:xmpp:message-moderate:0',
  MODERATE_1: 'urn:xmpp:message-moderate:1',
  RETRACT_0: 'urn:xmpp:message-retract:0',
  RETRACT_1: 'urn:xmpp:message-retract:1',
  MAM: 'urn:xmpp:mam:2',
  REGISTER: 'jabber:iq:register',
  VCARD: 'vcard-temp',
  CONFERENCE: 'jabber:x:conference',
  STANZAS: 'urn:ietf:params:xml:ns:xmpp-stanzas',
} as const;
