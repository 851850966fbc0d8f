// livechat announcements with real clients, side by side with livechat's Prosody: owners and admins may send a
// body with x-livechat-announcement-type (others receive it with the attribute); anyone else bounces
// modify/policy-violation and nobody gets it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sideBySide } from '../helpers/livechat-prosody.js';
import {
  join,
  say,
  outcome,
  bodyArrives,
  stanzaError,
  roomJid,
  setAffiliation,
  barrier,
  hasReceived,
} from './helpers.js';

const ATTR = 'x-livechat-announcement-type';

test('announcements: owners and admins only', async () => {
  const { ours } = await sideBySide('announcements', async (t) => {
    const room = roomJid(t, 'announce');
    const owner = await t.user('streamer');
    const admin = await t.user('alice');
    const bob = await t.user('bob');
    await join(owner, room, 'Streamer');
    await join(admin, room, 'Alice');
    await join(bob, room, 'Bob');
    await setAffiliation(owner, room, `alice@${t.domain}`, 'admin');

    await say(owner, room, 'Welcome!', { [ATTR]: 'announcement' });
    const seen = await bodyArrives(bob, 'Welcome!');
    await say(admin, room, 'Careful', { [ATTR]: 'warning' });
    const seen2 = await bodyArrives(bob, 'Careful');
    const spoof = await outcome(bob, await say(bob, room, 'I am the streamer', { [ATTR]: 'highlight' }));
    await barrier(owner, [admin], room);
    return {
      ownerAttr: seen.getChild('body')?.attrs[ATTR],
      adminAttr: seen2.getChild('body')?.attrs[ATTR],
      spoof: stanzaError(spoof),
      spoofLeaked: hasReceived(admin, (s) => s.getChildText('body') === 'I am the streamer'),
    };
  });
  assert.equal(ours.spoof, { type: 'modify', condition: 'policy-violation' });
  assert.is(ours.ownerAttr, 'announcement');
  assert.is(ours.spoofLeaked, false);
});

test.run();
