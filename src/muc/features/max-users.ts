// Occupant limit (muc#roomconfig_maxusers; XEP-0045 §7.2.10: a full room answers service-unavailable).
// Admins and owners may always enter, so a full live room can still be moderated.
import { StanzaError } from '../../xmpp/errors.js';
import { AFF_RANK } from '../types.js';
import type { FeatureContext } from './util.js';
import { submitValue } from './util.js';

export function install({ hooks, config }: FeatureContext): void {
  hooks.on(
    'pre-join',
    (ev) => {
      const max = ev.room.config.maxUsers;
      if (!max || ev.room.occupants.has(ev.nick) || AFF_RANK[ev.affiliation] >= AFF_RANK.admin) return;
      if (ev.room.occupantCount >= max) throw new StanzaError('service-unavailable', 'The room is full', 'wait');
    },
    40,
  );
  hooks.on(
    'config-form',
    ({ room, fields }) => {
      const opts = ['10', '20', '30', '50', '100', '500', '1000'].filter((v) => Number(v) <= config.maxOccupants);
      fields.push({
        var: 'muc#roomconfig_maxusers',
        type: 'list-single',
        label: 'Maximum number of occupants',
        values: [room.config.maxUsers ? String(room.config.maxUsers) : 'none'],
        options: [...opts.map((v) => ({ value: v })), { value: 'none', label: 'No limit' }],
      });
    },
    20,
  );
  hooks.on('config-submitted', (ev) => {
    submitValue(ev, 'muc#roomconfig_maxusers', 'maxUsers', (s) => {
      if (s === 'none' || s === '' || s === '0') return 0;
      const n = Number(s);
      return Number.isInteger(n) && n > 0 ? Math.min(n, config.maxOccupants) : undefined;
    });
  });
}
