// Which roles' presences are broadcast (muc#roomconfig_presencebroadcast). Limiting it to moderators turns a
// live-stream join storm from O(N²) presence deliveries into O(N): viewers see moderators and themselves, moderators
// still see everyone (MucConfig.moderatorsSeeAllPresences). The check itself is PresencePublisher.sees.
// The role "none" (as Prosody offers it) shows absent members: a joining session also gets an unavailable presence
// for each registered nickname whose owner is not in the room, after the occupant list and before its own presence.
import { el } from '../../xmpp/xml.js';
import { mucUserX } from '../presence.js';
import type { Role } from '../types.js';
import type { FeatureContext } from './util.js';

const BROADCASTABLE: Role[] = ['moderator', 'participant', 'visitor', 'none'];

/** Bound on absent members listed to one joining session (the affiliation list can be long). */
const MAX_OFFLINE = 500;

export function install({ hooks }: FeatureContext): void {
  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push({
        var: 'muc#roomconfig_presencebroadcast',
        type: 'list-multi',
        label: 'Roles for which Presence is Broadcasted',
        values: [...room.config.presenceBroadcast],
        options: [
          { value: 'moderator', label: 'Moderator' },
          { value: 'participant', label: 'Participant' },
          { value: 'visitor', label: 'Visitor' },
          { value: 'none', label: 'Absent members' },
        ],
      });
    },
    30,
  );
  hooks.on('config-submitted', (ev) => {
    const raw = ev.fields.get('muc#roomconfig_presencebroadcast');
    if (!raw) return;
    const roles = BROADCASTABLE.filter((r) => raw.includes(r));
    const cur = ev.room.config.presenceBroadcast;
    if (roles.length === cur.length && roles.every((r) => cur.includes(r))) return;
    ev.room.config.presenceBroadcast = roles;
    ev.codes.add('104');
  });
  hooks.on('roster', ({ room, session, view }) => {
    if (!room.config.presenceBroadcast.includes('none')) return;
    let n = 0;
    let present: Set<string> | undefined; // bare JIDs in the room, built only if a reserved nick is free
    for (const [bare, entry] of room.affiliations) {
      const nick = entry.nick;
      if (!nick || entry.affiliation === 'outcast' || room.occupants.has(nick)) continue;
      present ??= new Set([...room.occupants.values()].map((o) => o.bareJid));
      if (present.has(bare)) continue;
      const x = mucUserX({
        affiliation: entry.affiliation,
        role: 'none',
        jids: view === 'full' ? [bare] : undefined,
        details: { nick },
      });
      room.router.route(el('presence', { from: room.nickJid(nick), to: session.full, type: 'unavailable' }, x));
      if (++n >= MAX_OFFLINE) break;
    }
  });
}
