// Password-protected rooms (muc#roomconfig_roomsecret; XEP-0045 §7.2.6: wrong or missing password → not-authorized).
import { StanzaError } from '../../xmpp/errors.js';
import { asBool } from '../forms.js';
import type { FeatureContext } from './util.js';
import { boolField, submitValue } from './util.js';

export function install({ hooks }: FeatureContext): void {
  hooks.on(
    'pre-join',
    (ev) => {
      const secret = ev.room.config.password;
      if (!secret || ev.room.occupants.get(ev.nick)?.bareJid === ev.bareJid) return;
      const given = ev.x?.getChildText('password');
      if (given !== secret) throw new StanzaError('not-authorized', undefined, 'auth');
    },
    50,
  );
  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push(
        boolField('muc#roomconfig_passwordprotectedroom', 'Password protected', room.config.password !== ''),
        { var: 'muc#roomconfig_roomsecret', type: 'text-private', label: 'Password', values: [room.config.password] },
      );
    },
    40,
  );
  hooks.on('config-submitted', (ev) => {
    submitValue(ev, 'muc#roomconfig_roomsecret', 'password', (s) => s);
    if (asBool(ev.fields.get('muc#roomconfig_passwordprotectedroom')) === false && ev.room.config.password) {
      ev.room.config.password = '';
      ev.codes.add('104');
    }
  });
  hooks.on('disco-info', ({ room, features }) => {
    features.add(room.config.password ? 'muc_passwordprotected' : 'muc_unsecured');
  });
}
