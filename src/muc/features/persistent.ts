// Persistent vs temporary rooms (muc#roomconfig_persistentroom). Saving itself is the service's job; this file
// owns the setting, its disco feature, and removes a room that turns temporary while empty.
import type { FeatureContext } from './util.js';
import { boolField, submitBool } from './util.js';

export function install({ hooks }: FeatureContext): void {
  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push(
        boolField(
          'muc#roomconfig_persistentroom',
          'Persistent (room should remain even when it is empty)',
          room.config.persistent,
        ),
      );
    },
    90,
  );
  hooks.on('config-submitted', (ev) => {
    submitBool(ev, 'muc#roomconfig_persistentroom', 'persistent');
  });
  hooks.on('config-changed', ({ room }) => {
    if (!room.config.persistent && room.occupantCount === 0) room.host.roomEmpty(room);
  });
  hooks.on('disco-info', ({ room, features }) => {
    features.add(room.config.persistent ? 'muc_persistent' : 'muc_temporary');
  });
}
