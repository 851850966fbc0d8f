// Who may see real JIDs (muc#roomconfig_whois): moderators (semi-anonymous) or anyone (non-anonymous, status 100).
import type { Whois } from '../types.js';
import type { FeatureContext } from './util.js';
import { submitValue } from './util.js';

export function install({ hooks }: FeatureContext): void {
  hooks.on('pre-join', (ev) => {
    if (ev.room.config.whois === 'anyone') ev.codes.add('100');
  });
  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push({
        var: 'muc#roomconfig_whois',
        type: 'list-single',
        label: 'Addresses (JIDs) of room occupants may be viewed by:',
        values: [room.config.whois],
        options: [
          { value: 'moderators', label: 'Moderators only' },
          { value: 'anyone', label: 'Anyone' },
        ],
      });
    },
    35,
  );
  hooks.on('config-submitted', (ev) => {
    if (
      submitValue<Whois>(ev, 'muc#roomconfig_whois', 'whois', (s) =>
        s === 'anyone' || s === 'moderators' ? s : undefined,
      )
    ) {
      ev.codes.add(ev.room.config.whois === 'anyone' ? '172' : '173');
    }
  });
  hooks.on('config-changed', ({ room, before }) => {
    if (before.whois !== room.config.whois) for (const o of room.occupants.values()) o.invalidate();
  });
  hooks.on('disco-info', ({ room, features }) => {
    features.add(room.config.whois === 'anyone' ? 'muc_nonanonymous' : 'muc_semianonymous');
  });
}
