// Which roles' presences are broadcast (muc#roomconfig_presencebroadcast). Limiting it to moderators turns a
// live-stream join storm from O(N²) presence deliveries into O(N): viewers see moderators and themselves, moderators
// still see everyone (MucConfig.moderatorsSeeAllPresences). The check itself is Room.seesPresenceOf.
import type { Role } from '../types.js';
import type { FeatureContext } from './util.js';

const BROADCASTABLE: Role[] = ['moderator', 'participant', 'visitor'];

export function install({ hooks }: FeatureContext): void {
  hooks.on('config-form', ({ room, fields }) => {
    fields.push({
      var: 'muc#roomconfig_presencebroadcast', type: 'list-multi', label: 'Roles for which Presence is Broadcasted',
      values: [...room.config.presenceBroadcast],
      options: [{ value: 'moderator', label: 'Moderator' }, { value: 'participant', label: 'Participant' }, { value: 'visitor', label: 'Visitor' }],
    });
  }, 30);
  hooks.on('config-submitted', (ev) => {
    const raw = ev.fields.get('muc#roomconfig_presencebroadcast');
    if (!raw) return;
    const roles = BROADCASTABLE.filter((r) => raw.includes(r));
    const cur = ev.room.config.presenceBroadcast;
    if (roles.length === cur.length && roles.every((r) => cur.includes(r))) return;
    ev.room.config.presenceBroadcast = roles;
    ev.codes.add('104');
  });
}
