// Mute anonymous viewers (livechat's muc#roomconfig_x_peertubelivechat_mute_anonymous): while on, occupants logged
// in anonymously (the server's anonymous host) join as visitors and those present lose their voice, so only
// accounts can talk; turning it off gives voice back to anonymous visitors. 104 on change; disco feature while on.
import type { Occupant } from '../occupant.js';
import type { Room } from '../room.js';
import type { FeatureContext } from './util.js';
import { boolField } from './util.js';
import { asBool } from '../forms.js';

const FIELD = 'muc#roomconfig_x_peertubelivechat_mute_anonymous';
const KEY = 'muteAnonymous';
export const MUTE_ANONYMOUS_FEATURE = 'x_peertubelivechat_mute_anonymous';

export const mutesAnonymous = (room: Room): boolean => room.config[KEY] === true;

export function install({ hooks, isAnonymous }: FeatureContext): void {
  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push({
        ...boolField(FIELD, 'Mute anonymous users', mutesAnonymous(room)),
        desc: 'Anonymous users will be muted by default.',
      });
    },
    11,
  );
  hooks.on('config-submitted', (ev) => {
    const v = asBool(ev.fields.get(FIELD));
    if (v === undefined || v === mutesAnonymous(ev.room)) return;
    ev.room.config[KEY] = v;
    ev.codes.add('104');
    const [from, to] = v ? (['participant', 'visitor'] as const) : (['visitor', 'participant'] as const);
    const affected: Occupant[] = [];
    for (const o of ev.room.occupants.values()) if (o.role === from && isAnonymous(o.bareJid)) affected.push(o);
    for (const o of affected) ev.room.setRole(o, to);
  });
  hooks.on('disco-info', ({ room, features }) => {
    if (mutesAnonymous(room)) features.add(MUTE_ANONYMOUS_FEATURE);
  });
  // Before other pre-join handlers look at the role.
  hooks.on(
    'pre-join',
    (ev) => {
      if (ev.role === 'participant' && mutesAnonymous(ev.room) && isAnonymous(ev.bareJid)) ev.role = 'visitor';
    },
    1000,
  );
}
