// Slow mode with real clients, side by side with livechat's Prosody: the owner sets it through the config form
// (104 to everyone, disco field), a participant's second message within the window bounces wait/policy-violation
// to that participant alone, another participant is not affected, and moderators are exempt.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sideBySide, onOurs } from '../helpers/livechat-prosody.js';
import {
  join,
  configure,
  configForm,
  discoInfo,
  say,
  outcome,
  stanzaError,
  barrier,
  config104,
  roomJid,
  hasReceived,
} from './helpers.js';

test('slow mode: config, 104, disco, per-user bounce, moderators exempt', async () => {
  const { ours } = await sideBySide('slow mode', async (t) => {
    const room = roomJid(t, 'slow');
    const owner = await t.user('streamer');
    const alice = await t.user('alice');
    const viewer = await t.anon();
    await join(owner, room, 'Streamer');
    await join(alice, room, 'Alice');
    await join(viewer, room, 'Viewer');

    const before = (await discoInfo(alice, room)).fields.get('muc#roominfo_slow_mode_duration');
    const res = await configure(owner, room, { 'muc#roomconfig_slow_mode_duration': '60' });
    const status = await config104(alice, room);
    const form = await configForm(owner, room);
    const after = (await discoInfo(alice, room)).fields.get('muc#roominfo_slow_mode_duration');

    const first = await outcome(alice, await say(alice, room, 'alice 1'));
    const secondId = await say(alice, room, 'alice 2');
    const second = await outcome(alice, secondId);
    const viewerFirst = await outcome(viewer, await say(viewer, room, 'viewer 1'));
    const owner1 = await outcome(owner, await say(owner, room, 'owner 1'));
    const owner2 = await outcome(owner, await say(owner, room, 'owner 2'));
    await barrier(owner, [viewer, alice], room);
    const leaked = hasReceived(viewer, (s) => s.getChildText('body') === 'alice 2');

    // Off again: a participant may send at once.
    await configure(owner, room, { 'muc#roomconfig_slow_mode_duration': '0' });
    const third = await outcome(alice, await say(alice, room, 'alice 3'));
    return {
      configResult: res.attrs.type,
      got104: !!status,
      formValue: form.get('muc#roomconfig_slow_mode_duration')?.values,
      discoBefore: before,
      discoAfter: after,
      first: first.attrs.type,
      second: second.attrs.type,
      secondError: stanzaError(second),
      secondFrom: second.attrs.from,
      viewerFirst: viewerFirst.attrs.type,
      owner1: owner1.attrs.type,
      owner2: owner2.attrs.type,
      leaked,
      third: third.attrs.type,
    };
  });
  assert.equal(ours.secondError, { type: 'wait', condition: 'policy-violation' });
  assert.is(ours.leaked, false);
  assert.is(ours.owner2, 'groupchat');
  assert.equal(ours.discoAfter, ['60']);
});

test("slow mode: a value that is not a number is refused with bad-request and changes nothing (ours only: livechat's module fails internally)", async () => {
  await onOurs(async (t) => {
    const room = roomJid(t, 'slowbad');
    const owner = await t.user('streamer');
    await join(owner, room, 'Streamer');
    let err: unknown;
    try {
      await configure(owner, room, { 'muc#roomconfig_slow_mode_duration': 'soon' });
    } catch (e) {
      err = e;
    }
    assert.match(String((err as Error)?.message ?? err), /bad-request/);
    const form = await configForm(owner, room);
    assert.equal(form.get('muc#roomconfig_slow_mode_duration')?.values, ['0']);
  });
});

test.run();
