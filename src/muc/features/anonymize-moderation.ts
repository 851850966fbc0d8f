// Anonymized moderation (livechat's muc#roomconfig_anonymize_moderation_actions): when on, nobody learns which
// moderator acted. Kick/ban/role presences (307, 301…) carry no <actor/>, and message moderation names the room
// itself as `by` in the announcement and the tombstone, without the moderator's occupant-id. Like livechat, no 104.
import { MUC_NS } from '../types.js';
import type { Room } from '../room.js';
import type { FeatureContext } from './util.js';
import { boolField } from './util.js';
import { asBool } from '../forms.js';

const FIELD = 'muc#roomconfig_anonymize_moderation_actions';
const KEY = 'anonymizeModerationActions';

export const anonymizesModeration = (room: Room): boolean => room.config[KEY] === true;

export function install({ hooks }: FeatureContext): void {
  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push({
        ...boolField(FIELD, 'Anonymize moderation actions', anonymizesModeration(room)),
        desc: 'When this is enabled, moderation actions will be anonymized, to avoid disclosing who is banning/kicking/… occupants.',
      });
    },
    14,
  );
  hooks.on('config-submitted', (ev) => {
    const v = asBool(ev.fields.get(FIELD));
    if (v !== undefined) ev.room.config[KEY] = v;
  });
  hooks.on('presence-out', ({ room, stanza }) => {
    if (!anonymizesModeration(room)) return;
    for (const item of stanza.getChild('x', MUC_NS.USER)?.getChildren('item') ?? []) {
      item.children = item.children.filter((c) => typeof c === 'string' || c.name !== 'actor');
    }
  });
  hooks.on('moderate-message', (ev) => {
    if (!anonymizesModeration(ev.room)) return;
    ev.by = ev.room.jid;
    ev.byOccupantId = undefined;
  });
}
