// The side-by-side harness itself: both targets start, accept an account and an anonymous viewer, host a room
// and relay a message; and a failing script fails the test, naming the target.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sideBySide } from '../helpers/livechat-prosody.js';
import { join, say, bodyArrives, roomJid, statusCodes } from './helpers.js';

test('an account and an anonymous viewer chat in a room on both targets', async () => {
  await sideBySide('basic room', async (t) => {
    const room = roomJid(t, 'live');
    const owner = await t.user('streamer');
    const viewer = await t.anon();
    const self = await join(owner, room, 'Streamer');
    await join(viewer, room, 'Viewer');
    await say(viewer, room, 'hello');
    const got = await bodyArrives(owner, 'hello');
    return {
      created: statusCodes(self).includes('201'),
      viewerHost: viewer.jid.split('@')[1].split('/')[0],
      from: got.attrs.from,
    };
  });
});

test('a script failing on one target fails with that target named', async () => {
  let message = '';
  try {
    await sideBySide('self-check (a deliberate failure)', async (t) => {
      if (t.name === 'prosody') throw new Error('boom');
      return 1;
    });
  } catch (e) {
    message = (e as Error).message;
  }
  assert.match(message, /failed on prosody/);
  assert.match(message, /boom/);
});

test('different results on the two targets fail the comparison', async () => {
  let message = '';
  try {
    await sideBySide('self-check (a deliberate mismatch)', async (t) => t.name);
  } catch (e) {
    message = (e as Error).message;
  }
  assert.match(message, /differ/);
});

test.run();
