// Anonymized moderation actions with real clients, side by side with livechat's Prosody: with the option off a
// kick names its actor; with it on, the 307 presences (to the kicked user and to others) carry no <actor/>, and a
// retraction announcement names the room as `by` with no moderator occupant-id.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sideBySide } from '../helpers/livechat-prosody.js';
import type { Stanza, TestClient } from '../helpers/xmpp-client.js';
import {
  join,
  configure,
  configForm,
  say,
  bodyArrives,
  roomJid,
  setRole,
  setAffiliation,
  stanzaIdOf,
  moderateV0,
  statusCodes,
  MUC_USER,
  nextId,
  mamQuery,
} from './helpers.js';

const kickedPresence = (c: TestClient, room: string, nick: string) =>
  c.waitFor(
    (s) =>
      s.is('presence') &&
      s.attrs.type === 'unavailable' &&
      s.attrs.from === `${room}/${nick}` &&
      statusCodes(s).includes('307'),
    15000,
    `307 for ${nick}`,
  );
const actorOf = (p: Stanza) => {
  const a = p.getChild('x', MUC_USER)?.getChild('item')?.getChild('actor');
  return a ? { nick: a.attrs.nick } : null;
};

test('anonymize moderation actions: actors hidden in kicks and retractions only when on', async () => {
  const { ours, prosody } = await sideBySide(
    'anonymize moderation',
    async (t) => {
      const room = roomJid(t, 'anon-mod');
      const owner = await t.user('streamer');
      const watcher = await t.user('alice');
      await join(owner, room, 'Streamer');
      await join(watcher, room, 'Alice');

      // Off (default): the kick names the moderator.
      const troll1 = await t.user('troll1');
      await join(troll1, room, 'Troll1');
      await setRole(owner, room, 'Troll1', 'none', 'bye');
      const offSelf = await kickedPresence(troll1, room, 'Troll1');
      const offOther = await kickedPresence(watcher, room, 'Troll1');

      await configure(owner, room, { 'muc#roomconfig_anonymize_moderation_actions': '1' });
      const formValue = (await configForm(owner, room)).get('muc#roomconfig_anonymize_moderation_actions')?.values;

      const troll2 = await t.user('troll2');
      await join(troll2, room, 'Troll2');
      await setRole(owner, room, 'Troll2', 'none', 'bye');
      const onSelf = await kickedPresence(troll2, room, 'Troll2');
      const onOther = await kickedPresence(watcher, room, 'Troll2');

      // A ban (301) is anonymized the same way.
      const troll3 = await t.user('troll3');
      await join(troll3, room, 'Troll3');
      await setAffiliation(owner, room, `troll3@${t.domain}`, 'outcast', 'banned');
      const banned = await watcher.waitFor(
        (s) =>
          s.is('presence') &&
          s.attrs.type === 'unavailable' &&
          s.attrs.from === `${room}/Troll3` &&
          statusCodes(s).includes('301'),
        15000,
        '301',
      );
      const bannedSelf = await troll3.waitFor(
        (s) => s.is('presence') && s.attrs.type === 'unavailable' && statusCodes(s).includes('301'),
        15000,
        'own 301',
      );

      const body = `spam ${nextId()}`;
      await say(watcher, room, body);
      const copy = await bodyArrives(owner, body);
      const sid = stanzaIdOf(copy, room)!;
      await moderateV0(owner, room, sid, 'no spam');
      const ann = await watcher.waitFor(
        (s) => s.is('message') && s.getChild('apply-to', 'urn:xmpp:fasten:0')?.attrs.id === sid,
        15000,
        'announcement',
      );
      const moderated = ann
        .getChild('apply-to', 'urn:xmpp:fasten:0')!
        .getChild('moderated', 'urn:xmpp:message-moderate:0')!;
      // The archived tombstone (what later joiners and archive readers see) is anonymized too.
      const archived = await mamQuery(watcher, room, 'urn:xmpp:mam:2', null);
      const tomb = archived.map((m) => m.getChild('moderated', 'urn:xmpp:message-moderate:0')).find(Boolean);
      return {
        tombstoneBy: tomb ? (tomb.attrs.by === room ? 'room' : tomb.attrs.by) : 'no tombstone',
        tombstoneOccupantId: !!tomb?.getChild('occupant-id', 'urn:xmpp:occupant-id:0'),
        bodyStillArchived: archived.some((m) => m.getChildText('body') === body),
        off: { self: actorOf(offSelf), other: actorOf(offOther) },
        formValue,
        ban: { self: actorOf(bannedSelf), other: actorOf(banned) },
        on: {
          self: actorOf(onSelf),
          other: actorOf(onOther),
          reasonKept: onOther.getChild('x', MUC_USER)?.getChild('item')?.getChildText('reason'),
        },
        announcementBy: moderated.attrs.by === room ? 'room' : moderated.attrs.by,
        // Known difference, kept on purpose: livechat's module strips occupant-id from the announcement's top level,
        // but Prosody put the moderator's inside <moderated/>, so it still identifies the moderator. We omit it.
        moderatorOccupantId:
          t.name === 'ours' ? !!moderated.getChild('occupant-id', 'urn:xmpp:occupant-id:0') : 'not compared',
        prosodyLeaksOccupantId:
          t.name === 'prosody' ? !!moderated.getChild('occupant-id', 'urn:xmpp:occupant-id:0') : 'not compared',
      };
    },
    { compare: false },
  );
  const strip = (r: typeof ours) => ({ ...r, moderatorOccupantId: undefined, prosodyLeaksOccupantId: undefined });
  assert.equal(strip(ours), strip(prosody), 'same observable result on both, apart from the occupant-id below');
  assert.is(
    prosody.prosodyLeaksOccupantId,
    true,
    "livechat's Prosody no longer leaks the moderator occupant-id: drop this known difference",
  );
  assert.equal(ours.off.other, { nick: 'Streamer' });
  assert.is(ours.on.self, null);
  assert.is(ours.on.other, null);
  assert.equal(ours.ban, { self: null, other: null });
  assert.is(ours.announcementBy, 'room');
  assert.is(ours.moderatorOccupantId, false);
  assert.is(ours.tombstoneBy, 'room');
  assert.is(ours.bodyStillArchived, false);
});

test.run();
