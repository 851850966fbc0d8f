// livechat's announcements: a message whose <body/> carries x-livechat-announcement-type (highlight, announcement,
// warning) is shown specially by the front-end, so only owners and admins may send one; anyone else's bounces
// with modify/policy-violation and reaches nobody.
import { StanzaError } from '../../xmpp/errors.js';
import type { FeatureContext } from './util.js';

export const ANNOUNCEMENT_ATTR = 'x-livechat-announcement-type';

export function install({ hooks }: FeatureContext): void {
  hooks.on(
    'groupchat',
    ({ room, occupant, stanza }) => {
      const body = stanza.getChild('body');
      if (!body || body.attrs[ANNOUNCEMENT_ATTR] === undefined) return;
      const aff = room.affiliationOf(occupant.bareJid);
      if (aff === 'owner' || aff === 'admin') return;
      throw new StanzaError('policy-violation', 'Only owners and admins can send announcements.', 'modify');
    },
    90,
  );
}
