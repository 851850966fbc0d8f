// Room name, description, language and public listing (muc#roomconfig_roomname, _roomdesc, _lang, _publicroom).
import type { FeatureContext } from './util.js';
import { boolField, submitBool, submitValue } from './util.js';

export function install({ hooks }: FeatureContext): void {
  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push(
        { var: 'muc#roomconfig_roomname', type: 'text-single', label: 'Title', values: [room.config.name] },
        {
          var: 'muc#roomconfig_roomdesc',
          type: 'text-single',
          label: 'Description',
          values: [room.config.description],
        },
        {
          var: 'muc#roomconfig_lang',
          type: 'text-single',
          label: "Language tag for room (e.g. 'en', 'de', 'fr' etc.)",
          values: [room.config.lang],
        },
        boolField('muc#roomconfig_publicroom', 'Include room information in public lists', room.config.public),
      );
    },
    100,
  );
  hooks.on('config-submitted', (ev) => {
    submitValue(ev, 'muc#roomconfig_roomname', 'name', (s) => s.slice(0, 1000));
    submitValue(ev, 'muc#roomconfig_roomdesc', 'description', (s) => s.slice(0, 10000));
    submitValue(ev, 'muc#roomconfig_lang', 'lang', (s) => (/^[A-Za-z0-9-]{0,35}$/.test(s) ? s : undefined));
    submitBool(ev, 'muc#roomconfig_publicroom', 'public');
  });
  hooks.on('disco-info', ({ room, features, fields }) => {
    features.add(room.config.public ? 'muc_public' : 'muc_hidden');
    fields.push({ var: 'muc#roominfo_description', label: 'Description', values: [room.config.description] });
    if (room.config.lang) fields.push({ var: 'muc#roominfo_lang', label: 'Language', values: [room.config.lang] });
    fields.push({ var: 'muc#roomconfig_roomname', label: 'Title', values: [room.config.name] });
  });
}
