// Emoji-only mode with real clients, side by side with livechat's Prosody: 104 and a disco feature, text bounces
// modify/policy-violation to its sender alone, emoji pass, moderators are exempt. The channel's custom shortnames
// are set through our library API (livechat sets them through an HTTP API of its own, not loaded here).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sideBySide, onOurs } from '../helpers/livechat-prosody.js';
import {
  join,
  configure,
  discoInfo,
  say,
  outcome,
  stanzaError,
  roomJid,
  config104,
  barrier,
  hasReceived,
} from './helpers.js';

const FEATURE = 'x_peertubelivechat_emoji_only_mode';
const FIELD = 'muc#roomconfig_x_peertubelivechat_emoji_only_mode';

test('emoji only: text bounces, emoji pass, moderators exempt', async () => {
  const { ours } = await sideBySide('emoji only', async (t) => {
    const room = roomJid(t, 'emoji');
    const owner = await t.user('streamer');
    const bob = await t.user('bob');
    const viewer = await t.anon();
    await join(owner, room, 'Streamer');
    await join(bob, room, 'Bob');
    await join(viewer, room, 'Viewer');
    await configure(owner, room, { [FIELD]: '1' });
    await config104(bob, room);
    const feature = (await discoInfo(bob, room)).features.includes(FEATURE);
    const results: Record<string, unknown> = {};
    for (const body of ['hello', '👍', '👍🏽 🎉  ❤️', '🇫🇷', 'nice 👍', ':custom:', '1', '1️⃣', '🇦', ':smile:']) {
      const r = await outcome(viewer, await say(viewer, room, body));
      results[body] = r.attrs.type === 'error' ? stanzaError(r) : r.attrs.type;
    }
    const ownerText = await outcome(owner, await say(owner, room, 'moderators may write text'));
    await barrier(owner, [bob], room);
    const leaked = hasReceived(bob, (s) => s.getChildText('body') === 'hello');
    await configure(owner, room, { [FIELD]: '0' });
    const off = await outcome(viewer, await say(viewer, room, 'text again'));
    return { feature, results, ownerText: ownerText.attrs.type, leaked, off: off.attrs.type };
  });
  assert.equal(ours.results['hello'], { type: 'modify', condition: 'policy-violation' });
  assert.is(ours.results['👍'], 'groupchat');
  assert.is(ours.leaked, false);
});

test("emoji only: the channel's custom shortnames set through the library API pass (ours)", async () => {
  await onOurs(async (t) => {
    const room = roomJid(t, 'emoji2');
    const owner = await t.user('streamer');
    const viewer = await t.anon();
    await join(owner, room, 'Streamer');
    await join(viewer, room, 'Viewer');
    await configure(owner, room, { [FIELD]: '1' });
    assert.ok(t.ours!.server.muc.setCustomEmojis('emoji2', [':peertube:', ':party_parrot:']));
    assert.throws(() => t.ours!.server.muc.setCustomEmojis('emoji2', ['not a shortname!']), /invalid emoji shortname/);
    const ok = await outcome(viewer, await say(viewer, room, ':peertube: :PARTY_PARROT: 👍'));
    assert.is(ok.attrs.type, 'groupchat');
    const bad = await outcome(viewer, await say(viewer, room, ':other:'));
    assert.equal(stanzaError(bad), { type: 'modify', condition: 'policy-violation' });
  });
});

test.run();
