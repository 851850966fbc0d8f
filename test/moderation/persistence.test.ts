// The moderation options of a persistent room survive a restart (ours: they are part of the stored room config),
// and out-of-range values are clamped as livechat clamps them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pjoin } from 'node:path';
import { startTestServer } from '../helpers/server.js';
import { connectClient } from '../helpers/xmpp-client.js';
import { join, configure, configForm, discoInfo } from './helpers.js';

test('options persist across a restart; delay clamps to 60 s, slow mode to 0', async () => {
  const dataDir = await mkdtemp(pjoin(tmpdir(), 'moderation-persist-'));
  const room = 'keep@room.localhost';
  try {
    let srv = await startTestServer({ testMode: true }, { dataDir });
    let owner = await connectClient({ service: srv.wsUrl, domain: 'localhost', username: 'streamer', password: 'pw' });
    await join(owner, room, 'Streamer');
    await configure(owner, room, {
      'muc#roomconfig_persistentroom': '1',
      'muc#roomconfig_slow_mode_duration': '-5',
      'muc#roomconfig_moderation_delay': '120',
      'muc#roomconfig_anonymize_moderation_actions': '1',
      'muc#roomconfig_x_peertubelivechat_mute_anonymous': '1',
      'muc#roomconfig_x_peertubelivechat_emoji_only_mode': '1',
    });
    await configure(owner, room, { 'muc#roomconfig_slow_mode_duration': '7' });
    assert.ok(srv.server.muc.setCustomEmojis('keep', [':peertube:']));
    await owner.stop();
    await srv.stop(true);

    srv = await startTestServer({ testMode: true }, { dataDir });
    owner = await connectClient({ service: srv.wsUrl, domain: 'localhost', username: 'streamer', password: 'pw' });
    await join(owner, room, 'Streamer');
    const form = await configForm(owner, room);
    const info = await discoInfo(owner, room);
    assert.equal(form.get('muc#roomconfig_slow_mode_duration')?.values, ['7']);
    assert.equal(form.get('muc#roomconfig_moderation_delay')?.values, ['60']);
    assert.equal(form.get('muc#roomconfig_anonymize_moderation_actions')?.values, ['1']);
    assert.equal(form.get('muc#roomconfig_x_peertubelivechat_mute_anonymous')?.values, ['1']);
    assert.equal(form.get('muc#roomconfig_x_peertubelivechat_emoji_only_mode')?.values, ['1']);
    assert.equal(info.fields.get('muc#roominfo_slow_mode_duration'), ['7']);
    assert.equal(info.fields.get('muc#roominfo_moderation_delay'), ['60']);
    assert.ok(info.features.includes('x_peertubelivechat_mute_anonymous'));
    assert.ok(info.features.includes('x_peertubelivechat_emoji_only_mode'));
    assert.equal(srv.server.muc.rooms.get('keep')?.config.customEmojis, [':peertube:']);
    await owner.stop();
    await srv.stop();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test.run();
