// Moderation delay with real clients, side by side with livechat's Prosody: the sender and the moderators get a
// participant's message at once (moderators' copy tagged <moderation-delay/>), the others only after the delay
// with the same stanza-id, and a moderator's retraction within the window means the others never get it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sideBySide } from '../helpers/livechat-prosody.js';
import type { Stanza } from '../helpers/xmpp-client.js';
import {
  join,
  configure,
  configForm,
  discoInfo,
  say,
  bodyArrives,
  roomJid,
  setAffiliation,
  stanzaIdOf,
  moderateV0,
  statusCodes,
  hasReceived,
} from './helpers.js';

const DELAY = 4;

test('moderation delay: at once for sender and moderators, later for others, retraction cancels', async () => {
  const { ours } = await sideBySide('moderation delay', async (t) => {
    const room = roomJid(t, 'delayed');
    const owner = await t.user('streamer');
    const mod = await t.user('alice');
    const bob = await t.user('bob');
    const viewer = await t.anon();
    await join(owner, room, 'Streamer');
    await join(mod, room, 'Alice');
    await join(bob, room, 'Bob');
    await join(viewer, room, 'Viewer');
    await setAffiliation(owner, room, `alice@${t.domain}`, 'admin');

    const discoOff = (await discoInfo(bob, room)).fields.get('muc#roominfo_moderation_delay');
    await configure(owner, room, { 'muc#roomconfig_moderation_delay': String(DELAY) });
    const discoOn = (await discoInfo(bob, room)).fields.get('muc#roominfo_moderation_delay');
    const got104 = hasReceived(bob, (s) => s.is('message') && statusCodes(s).includes('104'));
    const formValue = (await configForm(owner, room)).get('muc#roomconfig_moderation_delay')?.values;

    const sent = Date.now();
    await say(bob, room, 'bob 1');
    const [echo, modCopy] = await Promise.all([bodyArrives(bob, 'bob 1'), bodyArrives(mod, 'bob 1')]);
    const modAt = Date.now() - sent;
    const early = hasReceived(viewer, (s) => s.getChildText('body') === 'bob 1');
    const viewerCopy = await bodyArrives(viewer, 'bob 1', 20_000);
    const viewerAt = Date.now() - sent;
    const tag = modCopy.getChild('moderation-delay') as Stanza | undefined;
    const waiting = Number(tag?.attrs.waiting);

    // Retracted within the window: the viewer never gets it.
    await say(bob, room, 'bob 2');
    const modCopy2 = await bodyArrives(mod, 'bob 2');
    const sid2 = stanzaIdOf(modCopy2, room)!;
    const retracted = await moderateV0(mod, room, sid2, 'spam');
    await say(bob, room, 'bob 3');
    await bodyArrives(viewer, 'bob 3', 20_000); // queued after bob 2: had bob 2 been delivered, it came first
    // A moderator's own message is delayed for the others too.
    const ownerSent = Date.now();
    await say(owner, room, 'owner 1');
    const ownerEcho = await bodyArrives(owner, 'owner 1');
    const modGot = await bodyArrives(mod, 'owner 1');
    await bodyArrives(viewer, 'owner 1', 20_000);
    const ownerViewerWaited = Date.now() - ownerSent >= (DELAY - 1) * 1000;
    const announcement = await viewer.waitFor(
      (s) => s.is('message') && !!s.getChild('apply-to', 'urn:xmpp:fasten:0'),
      5000,
      'retraction announcement',
    );
    return {
      discoOff: discoOff?.filter(Boolean) ?? [],
      discoOn,
      got104,
      formValue,
      echoTagged: !!echo.getChild('moderation-delay'),
      modTag: tag
        ? {
            delay: tag.attrs.delay,
            waitingPlausible:
              waiting >= Math.floor(sent / 1000) + DELAY - 1 && waiting <= Math.floor(Date.now() / 1000) + DELAY,
          }
        : null,
      modAtOnce: modAt < DELAY * 1000,
      viewerEarly: early,
      viewerWaited: viewerAt >= (DELAY - 1) * 1000,
      viewerTagged: !!viewerCopy.getChild('moderation-delay'),
      sameStanzaId:
        stanzaIdOf(viewerCopy, room) === stanzaIdOf(modCopy, room) && stanzaIdOf(modCopy, room) !== undefined,
      retractResult: retracted.attrs.type,
      retractedReachedViewer: hasReceived(viewer, (s) => s.getChildText('body') === 'bob 2'),
      // A moderator's own reflection is tagged like every moderator's copy.
      ownerViewerWaited,
      otherModeratorTagged: !!modGot.getChild('moderation-delay'),
      ownerEchoTagged: !!ownerEcho.getChild('moderation-delay'),
      announcementFor: announcement.getChild('apply-to', 'urn:xmpp:fasten:0')!.attrs.id === sid2,
    };
  });
  assert.is(ours.viewerEarly, false);
  assert.is(ours.viewerWaited, true);
  assert.is(ours.retractedReachedViewer, false);
  assert.equal(ours.modTag, { delay: String(DELAY), waitingPlausible: true });
});

test.run();
