// Who may send private messages (muc#roomconfig_allowpm: anyone, participants, moderators, none). Moderators may
// always, so they can reach a viewer privately.
import { StanzaError } from '../../xmpp/errors.js';
import type { AllowPm } from '../types.js';
import type { FeatureContext } from './util.js';
import { submitValue } from './util.js';

const VALUES: AllowPm[] = ['anyone', 'participants', 'moderators', 'none'];

export function install({ hooks }: FeatureContext): void {
  hooks.on('private-message', ({ room, occupant }) => {
    const allow = room.config.allowPm;
    if (occupant.role === 'moderator' || allow === 'anyone') return;
    if (allow === 'participants' && occupant.role === 'participant') return;
    throw new StanzaError('forbidden', 'Private messages are not allowed in this room', 'cancel');
  });
  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push({
        var: 'muc#roomconfig_allowpm',
        type: 'list-single',
        label: 'Allow private messages from',
        values: [room.config.allowPm],
        options: [
          { value: 'anyone', label: 'Everyone' },
          { value: 'participants', label: 'Participants' },
          { value: 'moderators', label: 'Moderators' },
          { value: 'none', label: 'No one' },
        ],
      });
    },
    33,
  );
  hooks.on('config-submitted', (ev) => {
    submitValue<AllowPm>(ev, 'muc#roomconfig_allowpm', 'allowPm', (s) =>
      VALUES.includes(s as AllowPm) ? (s as AllowPm) : undefined,
    );
  });
}
