// Settings mapping: livechat's names and defaults, PeerTube's raw values (missing, null, "true" strings), and the
// chat server configuration they produce.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mapSettings, needsRestart, SETTINGS } from '../../plugin/server/lib/settings.js';
import { buildServerConfig } from '../../plugin/server/lib/server-config.js';
import { videoHasChat, roomLocalpart, parseRoomLocalpart } from '../../plugin/server/lib/rooms.js';
import { validateConfig } from '../../src/index.js';
import { channelShortnames, channelTerms } from '../../plugin/server/lib/channel-data.js';
import { accountAvatarUrl } from '../../plugin/server/lib/account-avatars.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const t = suite('plugin settings');
const place = {
  host: 'video.example',
  dataDir: '/var/peertube/plugins/data/peertube-plugin-livechat',
  routerPath: '/plugins/livechat/router',
  wsPath: '/plugins/livechat/ws',
  webserverUrl: 'https://video.example',
};

t('livechat names and defaults', () => {
  const byName = new Map(SETTINGS.map((s) => [s.name, s]));
  assert.is(byName.get('chat-per-live-video')!.default, true);
  assert.is(byName.get('chat-all-lives')!.default, false);
  assert.is(byName.get('prosody-room-type')!.default, 'video');
  assert.is(byName.get('prosody-muc-expiration')!.default, '1w');
  assert.is(byName.get('prosody-muc-log-by-default')!.default, true);
  assert.is(byName.get('avatar-set')!.default, 'sepia');
  assert.is(byName.get('prosody-s2s-port')!.default, '5269');
  assert.is(byName.get('prosody-c2s-port')!.default, '52822');
  assert.is(byName.get('prosody-s2s-interfaces')!.default, '*, ::');
  const s = mapSettings({});
  assert.is(s.perLiveVideo, true);
  assert.is(s.roomType, 'video');
  assert.is(s.mucExpiration, '1w');
  assert.equal(s.c2sInterfaces, ['127.0.0.1', '::1']);
});

t('PeerTube raw values: null and missing take the default, strings are parsed, junk falls back', () => {
  const s = mapSettings({
    'chat-per-live-video': null,
    'chat-all-lives': 'true',
    'chat-no-anonymous': 'false',
    'prosody-room-type': 'channel',
    'prosody-s2s-port': 'abc',
    'prosody-c2s-port': '5222',
    'prosody-muc-expiration': ' 30 D ',
    'avatar-set': 'dragons',
    'chat-videos-list': 'https://v.example/w/11111111-2222-4333-8444-555555555555\n\n# comment\nabc',
  });
  assert.is(s.perLiveVideo, true);
  assert.is(s.allLives, true);
  assert.is(s.noAnonymous, false);
  assert.is(s.roomType, 'channel');
  assert.is(s.s2sPort, 5269);
  assert.is(s.c2sPort, 5222);
  assert.is(s.mucExpiration, '30d');
  assert.is(s.avatarSet, 'sepia');
  assert.equal(s.videosList, ['https://v.example/w/11111111-2222-4333-8444-555555555555', 'abc']);
  assert.is(mapSettings({ 'prosody-muc-expiration': 'forever' }).mucExpiration, '1w');
});

t('server config: domains, no listener of its own, archive expiry, anonymous off, S2S and c2s on request', () => {
  const c = validateConfig(buildServerConfig(mapSettings({}), place));
  assert.is(c.domain, 'video.example');
  assert.is(c.anonymousHost, 'anon.video.example');
  assert.is(c.mucHost, 'room.video.example');
  assert.is(c.http.listen, false);
  assert.is(c.dataDir, `${place.dataDir}/xmpp`);
  assert.equal(c.modules.archive, { expiry: '1w' });
  assert.equal(c.modules.tcp, { enabled: false });
  assert.equal(
    c.modules.s2s,
    {
      enabled: false,
      websocket: {
        enabled: true,
        path: '/plugins/livechat/ws/xmpp-websocket-s2s',
        serverInfosDir: `${place.dataDir}/serverInfos`,
        instanceUrl: 'https://video.example',
      },
    },
    'WebSocket S2S on, TCP S2S off',
  );
  assert.equal(
    (
      validateConfig(buildServerConfig(mapSettings({ 'federation-dont-publish-remotely': true }), place)).modules
        .s2s as { websocket: unknown }
    ).websocket,
    { enabled: false },
  );
  assert.equal(
    c.modules.avatars,
    { set: 'birds', httpPath: '/avatars', bots: ['moderator@bot.video.example'] },
    "livechat's sepia default → the birds set; the bot's avatar",
  );
  assert.is((c.modules.muc as { terms: string }).terms, '');
  assert.is(
    (
      validateConfig(buildServerConfig(mapSettings({ 'chat-terms': 'Be kind' }), place)).modules.muc as {
        terms: string;
      }
    ).terms,
    'Be kind',
  );
  assert.equal(
    c.modules.bot,
    { enabled: true, dir: `${place.dataDir}/bot/room.video.example`, jid: 'moderator@bot.video.example' },
    "the bot reads livechat's bot/<muc host>/rooms/ in the plugin data folder",
  );
  assert.is(
    (
      validateConfig(buildServerConfig(mapSettings({ 'disable-channel-configuration': true }), place)).modules.bot as {
        enabled: boolean;
      }
    ).enabled,
    false,
  );
  assert.is(
    (validateConfig(buildServerConfig(mapSettings({ 'avatar-set': 'cat' }), place)).modules.avatars as { set: string })
      .set,
    'cats',
  );
  const off = validateConfig(
    buildServerConfig(
      mapSettings({
        'chat-no-anonymous': true,
        'prosody-room-allow-s2s': true,
        'prosody-c2s': true,
        'prosody-muc-log-by-default': false,
      }),
      place,
    ),
  );
  assert.is(off.anonymousHost, null);
  const s2s = off.modules.s2s as { enabled: boolean; port: number; interfaces: string[] };
  assert.equal([s2s.enabled, s2s.port, s2s.interfaces], [true, 5269, ['*', '::']]);
  assert.is((off.modules.tcp as { port: number }).port, 52822);
  assert.is(
    (off.modules.muc as { defaultRoomConfig: { enableArchiving: boolean } }).defaultRoomConfig.enableArchiving,
    false,
  );
});

t('livechat data: channel emoji shortnames from emojis/channel/<id>/definition.json; account avatar URL', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plugin-emojis-'));
  try {
    assert.equal(await channelShortnames(dir, 3), [], 'no definition: none');
    mkdirSync(join(dir, 'emojis', 'channel', '3'), { recursive: true });
    writeFileSync(
      join(dir, 'emojis', 'channel', '3', 'definition.json'),
      JSON.stringify({
        customEmojis: [
          { sn: ':wave:', url: '/a.png' },
          { sn: 'bad name', url: '/b.png' },
          { url: '/c.png' },
          { sn: ':cat:', url: '/d.png', isCategoryEmoji: true },
        ],
      }),
    );
    assert.equal(await channelShortnames(dir, 3), [':wave:', ':cat:'], 'invalid entries left out');
    assert.is(await channelTerms(dir, 3), undefined, 'no channel options: no terms');
    mkdirSync(join(dir, 'channelConfigurationOptions'));
    writeFileSync(
      join(dir, 'channelConfigurationOptions', '3.json'),
      JSON.stringify({ slowMode: { duration: 0 }, terms: 'Be nice' }),
    );
    assert.is(await channelTerms(dir, 3), 'Be nice');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const user = {
    Account: {
      Actor: {
        Avatars: [
          { filename: 'big.png', width: 600 },
          { filename: 'small.png', width: 48 },
          { filename: '../x.png', width: 120 },
        ],
      },
    },
  };
  assert.is(accountAvatarUrl(user, 'https://v.example'), 'https://v.example/lazy-static/avatars/small.png');
  assert.is(
    accountAvatarUrl({ Account: { Actor: { Avatars: [{ filename: 'a.png', width: 32 }] } } }, 'https://v.example'),
    'https://v.example/lazy-static/avatars/a.png',
  );
  assert.is(accountAvatarUrl({ Account: { Actor: { Avatars: [] } } }, 'https://v.example'), undefined);
  assert.is(accountAvatarUrl(undefined, 'https://v.example'), undefined);
});

t('restart only for settings that change domains, listeners or retention', () => {
  const a = mapSettings({});
  assert.not.ok(needsRestart(a, mapSettings({ 'chat-all-lives': true, 'prosody-room-type': 'channel' })));
  assert.ok(needsRestart(a, mapSettings({ 'chat-no-anonymous': true })));
  assert.ok(needsRestart(a, mapSettings({ 'prosody-muc-expiration': '2w' })));
  assert.not.ok(needsRestart(a, mapSettings({ 'chat-terms': 'new terms' })), 'terms change live');
  assert.ok(
    needsRestart(a, mapSettings({ 'disable-channel-configuration': true })),
    'the bot starts or stops with the server',
  );
});

t('which video has a chat, and its room', () => {
  const live = { id: 1, uuid: '11111111-2222-4333-8444-555555555555', isLive: true, channelId: 7 };
  const vod = { ...live, id: 2, isLive: false };
  const d = mapSettings({});
  assert.ok(videoHasChat(live, d, true));
  assert.not.ok(videoHasChat(live, d, false));
  assert.not.ok(videoHasChat(live, mapSettings({ 'chat-per-live-video': false }), true));
  assert.ok(videoHasChat(live, mapSettings({ 'chat-all-lives': true }), false));
  assert.not.ok(videoHasChat(vod, mapSettings({ 'chat-all-lives': true }), false));
  assert.ok(videoHasChat(vod, mapSettings({ 'chat-all-non-lives': true }), false));
  assert.ok(videoHasChat(vod, mapSettings({ 'chat-videos-list': `https://v.example/w/${live.uuid}` }), false));
  assert.not.ok(videoHasChat({ ...live, isLocal: () => false }, mapSettings({ 'chat-all-lives': true }), true));
  assert.is(roomLocalpart(live, d), live.uuid);
  assert.is(roomLocalpart(live, mapSettings({ 'prosody-room-type': 'channel' })), 'channel.7');
  assert.equal(parseRoomLocalpart('channel.7'), { kind: 'channel', id: 7 });
  assert.is(parseRoomLocalpart('../etc'), null);
});

t.run();
