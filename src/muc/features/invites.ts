// Mediated invitations (XEP-0045 §7.8.2): an occupant asks the room to invite someone; the room sends the invite
// from itself, with the legacy jabber:x:conference element and a plain body for clients that know neither.
import { StanzaError } from '../../xmpp/errors.js';
import { el } from '../../xmpp/xml.js';
import { parseJid } from '../../xmpp/jid.js';
import { AFF_RANK, MUC_NS } from '../types.js';
import type { FeatureContext } from './util.js';
import { boolField, submitBool } from './util.js';

export function install({ hooks }: FeatureContext): void {
  hooks.on('room-message', ({ room, stanza, from, occupant }) => {
    const invite = stanza.getChild('x', MUC_NS.USER)?.getChild('invite');
    if (!invite) return;
    const to = parseJid(invite.attrs.to);
    if (!to) throw new StanzaError('jid-malformed', undefined, 'modify');
    if (!occupant || occupant.role === 'visitor') throw new StanzaError('forbidden', undefined, 'auth');
    if (
      room.config.membersOnly &&
      !room.config.allowInvites &&
      AFF_RANK[room.affiliationOf(occupant.bareJid)] < AFF_RANK.admin
    ) {
      throw new StanzaError('forbidden', undefined, 'auth');
    }
    const reason = invite.getChildText('reason') ?? '';
    const inviter = room.nickJid(occupant.nick);
    const body =
      stanza.getChildText('body') ?? `${inviter} invited you to the room ${room.jid}${reason ? ` (${reason})` : ''}`;
    room.router.route(
      el(
        'message',
        { from: room.jid, to: to.toString(), id: stanza.attrs.id },
        el(
          'x',
          { xmlns: MUC_NS.USER },
          el('invite', { from: inviter }, el('reason', {}, reason || undefined)),
          room.config.password ? el('password', {}, room.config.password) : undefined,
        ),
        el('body', {}, body),
        el('x', { xmlns: MUC_NS.CONFERENCE, jid: room.jid }, reason || undefined),
      ),
    );
    void from;
    return true;
  });
  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push(
        boolField('muc#roomconfig_allowinvites', 'Allow members to invite new members', room.config.allowInvites),
      );
    },
    55,
  );
  hooks.on('config-submitted', (ev) => {
    submitBool(ev, 'muc#roomconfig_allowinvites', 'allowInvites');
  });
}
