// Registering with a room (XEP-0045 §7.10, jabber:iq:register as XEP-0077 describes it): an affiliated user reserves
// a nickname (muc#register_roomnick), which reserved-nicks.ts then enforces and disco.ts reports on the
// x-roomuser-item node. <remove/> cancels the registration: a member becomes unaffiliated (and leaves a
// members-only room, 321); owners and admins keep their affiliation and only lose the nickname.
// Unaffiliated users may not register themselves (XEP-0045 lets a room restrict this; §7.10 names the error
// not-allowed), so membership stays something owners and admins grant.
import { StanzaError } from '../../xmpp/errors.js';
import { el, type Element } from '../../xmpp/xml.js';
import { buildForm, formType, readForm, type FormField } from '../forms.js';
import type { Room, RoomIqContext } from '../room.js';
import { MUC_NS, type Affiliation } from '../types.js';
import type { FeatureContext } from './util.js';
import { bareString } from '../../xmpp/jid.js';

const NICK_FIELD = 'muc#register_roomnick';

function registrationForm(nick?: string): Element {
  const field: FormField = {
    var: NICK_FIELD,
    type: 'text-single',
    label: 'Nickname',
    required: true,
    values: nick ? [nick] : [],
  };
  return buildForm('form', MUC_NS.REGISTER_FORM, [field]);
}

/** The affiliation of a user allowed to register; throws for the others. */
function registrant(room: Room, bare: string): Exclude<Affiliation, 'none' | 'outcast'> {
  const aff = room.affiliationOf(bare);
  if (aff === 'outcast') throw new StanzaError('forbidden', 'You have been banned from this room', 'auth');
  if (aff === 'none') throw new StanzaError('not-allowed', 'Only members may register with this room', 'cancel');
  return aff;
}

function reservedBy(room: Room, nick: string): string | undefined {
  for (const [bare, entry] of room.affiliations) if (entry.nick === nick) return bare;
  return undefined;
}

/** Cancels a registration: members lose membership; owners and admins keep their affiliation, not the nickname. */
function unregister(room: Room, bare: string, aff: Affiliation): void {
  if (aff === 'member') {
    room.setAffiliation(bare, 'none');
    return;
  }
  const entry = room.affiliations.get(bare);
  if (!entry?.nick) return;
  delete entry.nick;
  room.host.persist(room);
}

function register({ room, payload, from }: RoomIqContext): void {
  const bare = bareString(from);
  const aff = registrant(room, bare);
  if (payload.getChild('remove')) {
    unregister(room, bare, aff);
    return;
  }
  const x = payload.getChild('x', MUC_NS.DATA);
  if (!x || x.attrs.type !== 'submit')
    throw new StanzaError('bad-request', 'A submitted registration form is required', 'modify');
  const fields = readForm(x);
  const ft = formType(fields);
  if (ft !== undefined && ft !== MUC_NS.REGISTER_FORM)
    throw new StanzaError('bad-request', 'Form is not of type room registration', 'modify');
  const nick = fields.get(NICK_FIELD)?.[0] ?? '';
  try {
    room.validateNick(nick);
  } catch {
    throw new StanzaError('bad-request', 'Invalid nickname', 'modify');
  }
  // §7.10: a nickname reserved by someone else is a conflict; so is one another user is using right now.
  const owner = reservedBy(room, nick);
  if (owner && owner !== bare) throw new StanzaError('conflict', 'That nickname is reserved', 'cancel');
  const holder = room.occupants.get(nick);
  if (holder && holder.bareJid !== bare) throw new StanzaError('conflict', 'That nickname is in use', 'cancel');
  if (room.affiliations.get(bare)?.nick === nick) return;
  // The affiliation is unchanged; setting it stores the nickname and tells occupants (the user's presence).
  room.setAffiliation(bare, aff, { nick });
}

export function install({ hooks, iq }: FeatureContext): void {
  iq.register('query', MUC_NS.REGISTER, 'get', ({ room, from }) => {
    const bare = bareString(from);
    registrant(room, bare);
    const nick = room.affiliations.get(bare)?.nick;
    // XEP-0077 §3.1: a registered user gets <registered/> with the current values, and may submit again to change them.
    return el('query', { xmlns: MUC_NS.REGISTER }, nick ? el('registered') : undefined, registrationForm(nick));
  });
  iq.register('query', MUC_NS.REGISTER, 'set', register);
  hooks.on('disco-info', ({ features }) => {
    features.add(MUC_NS.REGISTER);
  });
}
