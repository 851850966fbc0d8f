// Moderated rooms (muc#roomconfig_moderatedroom): newcomers without affiliation are visitors (Room.defaultRole), and
// visitors cannot speak to the room (XEP-0045 §7.4: forbidden).
import { StanzaError } from '../../xmpp/errors.js';
import type { FeatureContext } from './util.js';
import { boolField, submitBool } from './util.js';

export function install({ hooks }: FeatureContext): void {
  hooks.on(
    'groupchat',
    ({ occupant }) => {
      if (occupant.role === 'visitor')
        throw new StanzaError('forbidden', 'You are not allowed to send messages to this room (no voice)', 'auth');
    },
    80,
  );
  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push(
        boolField(
          'muc#roomconfig_moderatedroom',
          'Moderated (only occupants with voice can send messages)',
          room.config.moderated,
        ),
      );
    },
    65,
  );
  hooks.on('config-submitted', (ev) => {
    submitBool(ev, 'muc#roomconfig_moderatedroom', 'moderated');
  });
  hooks.on('disco-info', ({ room, features }) => {
    features.add(room.config.moderated ? 'muc_moderated' : 'muc_unmoderated');
  });
}
