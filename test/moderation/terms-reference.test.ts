// Terms side by side with livechat's Prosody (mod_muc_peertubelivechat_terms): global terms on join, the reserved
// nickname and the stripped marker look the same to clients of both servers.
import { test } from 'uvu';
import { sideBySide } from '../helpers/livechat-prosody.js';
import { xml, type Stanza } from '../helpers/xmpp-client.js';
import { TIMEOUT, join, nextId, roomJid, stanzaError, bodyArrives } from './helpers.js';

const TERMS = 'Be nice. No spam. <b>not markup</b>';

test('global terms on join from room/Peertube, reserved nick, forged marker stripped', async () => {
  await sideBySide(
    'terms',
    async (t) => {
      const room = roomJid(t, 'termsroom');
      const owner = await t.user('streamer');
      await join(owner, room, 'Streamer');
      const g = await owner.waitFor((s) => s.is('message') && !!s.getChild('x-livechat-terms'), TIMEOUT, 'terms');
      const viewer = await t.anon();
      const refused = await join(viewer, room, 'Peertube');
      await join(viewer, room, 'Viewer');
      await viewer.waitFor(
        (s) => s.is('message') && s.getChild('x-livechat-terms')?.attrs.type === 'global',
        TIMEOUT,
        'terms for viewer',
      );
      await viewer.send(
        xml(
          'message',
          { type: 'groupchat', to: room, id: nextId() },
          xml('body', {}, 'I am the law'),
          xml('x-livechat-terms', { type: 'global' }),
        ),
      );
      const forged = await bodyArrives(owner, 'I am the law');
      return {
        from: g.attrs.from.replace(t.mucHost, 'MUC'),
        type: g.getChild('x-livechat-terms').attrs.type,
        body: g.getChildText('body'),
        hints: ['no-copy', 'no-store', 'no-permanent-store'].map((h) => !!g.getChild(h, 'urn:xmpp:hints')),
        delayFrom: g.getChild('delay', 'urn:xmpp:delay')?.attrs.from?.replace(t.mucHost, 'MUC'),
        ownerTermsCount: owner.received.filter((s: Stanza) => s.is('message') && !!s.getChild('x-livechat-terms'))
          .length,
        reservedNick: refused.attrs.type === 'error' ? stanzaError(refused) : 'joined',
        forgedMarker: !!forged.getChild('x-livechat-terms'),
      };
    },
    { ours: { muc: { terms: TERMS } }, prosody: { chatTerms: TERMS } },
  );
});

test.run();
