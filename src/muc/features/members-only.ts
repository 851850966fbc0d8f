// Members-only rooms (muc#roomconfig_membersonly): non-members get registration-required, and switching a room to
// members-only removes the non-members present (322).
import { StanzaError } from '../../xmpp/errors.js';
import { AFF_RANK } from '../types.js';
import type { FeatureContext } from './util.js';
import { boolField, submitBool } from './util.js';

export function install({ hooks }: FeatureContext): void {
  hooks.on(
    'pre-join',
    (ev) => {
      if (ev.room.config.membersOnly && AFF_RANK[ev.affiliation] < AFF_RANK.member) {
        throw new StanzaError('registration-required', undefined, 'auth');
      }
    },
    60,
  );
  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push(boolField('muc#roomconfig_membersonly', 'Only allow members to join', room.config.membersOnly));
    },
    60,
  );
  hooks.on('config-submitted', (ev) => {
    submitBool(ev, 'muc#roomconfig_membersonly', 'membersOnly');
  });
  hooks.on('config-changed', ({ room, before }) => {
    if (!room.config.membersOnly || before.membersOnly) return;
    for (const occ of [...room.occupants.values()]) {
      if (AFF_RANK[room.affiliationOf(occ.bareJid)] < AFF_RANK.member) room.removeOccupant(occ, { codes: ['322'] });
    }
  });
  hooks.on('disco-info', ({ room, features }) => {
    features.add(room.config.membersOnly ? 'muc_membersonly' : 'muc_open');
  });
}
