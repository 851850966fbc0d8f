// Mute anonymous viewers with real clients, side by side with livechat's Prosody: turning it on makes present
// anonymous occupants visitors (104, disco feature), their messages are forbidden, new anonymous joiners are
// visitors, accounts keep their voice, and turning it off gives anonymous visitors their voice back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sideBySide } from '../helpers/livechat-prosody.js';
import {
  join,
  configure,
  discoInfo,
  say,
  outcome,
  stanzaError,
  roomJid,
  config104,
  selfRole,
  MUC_USER,
} from './helpers.js';

const FEATURE = 'x_peertubelivechat_mute_anonymous';

test('mute anonymous: on mutes anonymous occupants and joiners, off gives voice back', async () => {
  const { ours } = await sideBySide('mute anonymous', async (t) => {
    const room = roomJid(t, 'muted');
    const owner = await t.user('streamer');
    const bob = await t.user('bob');
    const viewer = await t.anon();
    await join(owner, room, 'Streamer');
    await join(bob, room, 'Bob');
    const viewerJoin = await join(viewer, room, 'Viewer');
    const featureBefore = (await discoInfo(bob, room)).features.includes(FEATURE);

    await configure(owner, room, { 'muc#roomconfig_x_peertubelivechat_mute_anonymous': '1' });
    await config104(bob, room);
    await selfRole(viewer, room, 'Viewer', 'visitor');
    const featureOn = (await discoInfo(bob, room)).features.includes(FEATURE);
    const muted = await outcome(viewer, await say(viewer, room, 'can I talk?'));
    const bobMsg = await outcome(bob, await say(bob, room, 'accounts still talk'));

    const late = await t.anon();
    const lateJoin = await join(late, room, 'Late');

    await configure(owner, room, { 'muc#roomconfig_x_peertubelivechat_mute_anonymous': '0' });
    await selfRole(viewer, room, 'Viewer', 'participant');
    await selfRole(late, room, 'Late', 'participant');
    const featureOff = (await discoInfo(bob, room)).features.includes(FEATURE);
    const again = await outcome(viewer, await say(viewer, room, 'thanks'));
    return {
      viewerRoleAtJoin: viewerJoin.getChild('x', MUC_USER)?.getChild('item')?.attrs.role,
      featureBefore,
      featureOn,
      featureOff,
      mutedError: stanzaError(muted),
      bobMsg: bobMsg.attrs.type,
      lateRole: lateJoin.getChild('x', MUC_USER)?.getChild('item')?.attrs.role,
      again: again.attrs.type,
    };
  });
  assert.is(ours.lateRole, 'visitor');
  assert.equal(ours.mutedError, { type: 'auth', condition: 'forbidden' });
  assert.is(ours.again, 'groupchat');
});

test.run();
