// Voice requests (XEP-0045 §7.13 and §8.6): a visitor of a moderated room sends the room a muc#request form; the
// room forwards an approval form to the moderators; a moderator who submits it with muc#request_allow true gives
// the visitor voice (participant), announced like any voice grant. A visitor may ask once a minute, so a live-stream
// audience cannot flood the moderators.
import { StanzaError } from '../../xmpp/errors.js';
import { el } from '../../xmpp/xml.js';
import { PreparedStanza } from '../../xmpp/prepared.js';
import { asBool, buildForm, formType, readForm } from '../forms.js';
import type { Occupant } from '../occupant.js';
import type { Room } from '../room.js';
import { MUC_NS } from '../types.js';
import type { FeatureContext } from './util.js';

export const MUC_REQUEST = 'http://jabber.org/protocol/muc#request';
export const REQUEST_INTERVAL_MS = 60_000;

/** When each visitor last asked (dropped with the occupant object). */
const lastAsked = new WeakMap<Occupant, number>();

function forwardRequest(room: Room, visitor: Occupant, id: string | undefined): void {
  const now = Date.now();
  const last = lastAsked.get(visitor);
  if (last !== undefined && now - last < REQUEST_INTERVAL_MS) return; // already with the moderators
  lastAsked.set(visitor, now);
  const form = buildForm(
    'form',
    MUC_REQUEST,
    [
      // Field types as XEP-0045 Example 80 gives them: clients (aioxmpp) parse the form by them.
      {
        var: 'muc#role',
        type: 'list-single',
        label: 'Requested role',
        values: ['participant'],
        options: [{ value: 'participant', label: 'Participant' }],
      },
      { var: 'muc#jid', type: 'jid-single', label: 'User ID', values: [visitor.primary.full] },
      { var: 'muc#roomnick', type: 'text-single', label: 'Room Nickname', values: [visitor.nick] },
      { var: 'muc#request_allow', type: 'boolean', label: 'Grant voice to this person?', values: ['false'] },
    ],
    'Voice request',
    'To approve this request for voice, select the "Grant voice to this person?" checkbox and submit.',
  );
  const msg = new PreparedStanza(el('message', { from: room.jid, id }, form));
  room.broadcast(msg, (o) => o.role === 'moderator');
}

function approve(room: Room, moderator: Occupant, fields: Map<string, string[]>): void {
  if (!asBool(fields.get('muc#request_allow'))) return;
  const role = fields.get('muc#role')?.[0] ?? 'participant';
  if (role !== 'participant') return;
  const nick = fields.get('muc#roomnick')?.[0];
  const jid = fields.get('muc#jid')?.[0];
  const target =
    (nick !== undefined ? room.occupants.get(nick) : undefined) ?? (jid ? room.occupantOf(jid) : undefined);
  // Only visitors are raised: the request may be stale (left, already voiced, or now a moderator).
  if (!target || target.role !== 'visitor') return;
  room.setRole(target, 'participant', moderator);
}

export function install({ hooks }: FeatureContext): void {
  hooks.on('room-message', ({ room, stanza, occupant }) => {
    const x = stanza.getChild('x', MUC_NS.DATA);
    if (!x) return;
    const fields = readForm(x);
    if (formType(fields) !== MUC_REQUEST) return;
    if (!occupant) throw new StanzaError('not-acceptable', 'You are not currently connected to this chat', 'cancel');
    if (x.attrs.type !== 'submit') return true; // a cancelled approval form: nothing to do
    if (occupant.role === 'moderator' && fields.has('muc#request_allow')) approve(room, occupant, fields);
    else if (occupant.role === 'visitor') forwardRequest(room, occupant, stanza.attrs.id);
    return true;
  });
  hooks.on('disco-info', ({ features }) => {
    features.add(MUC_REQUEST);
  });
}
