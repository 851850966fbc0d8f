// Server features the plugin wires from PeerTube and livechat's data, driven through the PeerTube host emulation with
// @xmpp/client over the plugin's WebSocket route: the chat-terms setting (and its live change), the channel's terms
// and custom emojis (emoji-only mode), the moderation bot reading livechat's bot/<muc>/rooms/*.json, and PeerTube account
// avatars in occupants' presences.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { PeerTubeHost } from './host/plugin-host.js';
import { disposePlugin, installPlugin } from './host/installed.js';
import { connectClient, xml, type TestClient, type Stanza } from '../helpers/xmpp-client.js';
import { wsService } from './host/router-api.js';
import { enterRoom } from '../helpers/muc-join.js';

const MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
const VCARD_UPDATE = 'vcard-temp:x:update';
const UUID = '11111111-2222-4333-8444-555555555555';
const ROOM = `${UUID}@room.localhost`;

interface Ctx {
  host: PeerTubeHost;
  dir: string;
  alice: { token: string };
  clients: TestClient[];
}

const t = suite<Ctx>('PeerTube plugin wiring: terms, channel emojis, moderation bot, account avatars');

async function anon(ctx: Ctx): Promise<TestClient> {
  const c = await connectClient({ service: wsService(ctx), domain: 'anon.localhost' });
  ctx.clients.push(c);
  return c;
}

async function alice(ctx: Ctx): Promise<TestClient> {
  const res = await fetch(`${ctx.host.url}/plugins/livechat/router/api/auth`, {
    headers: { Authorization: `Bearer ${ctx.alice.token}` },
  });
  assert.is(res.status, 200, 'api/auth for the logged-in streamer');
  const { password } = (await res.json()) as { password: string };
  const c = await connectClient({ service: wsService(ctx), domain: 'localhost', username: 'alice', password });
  ctx.clients.push(c);
  return c;
}

async function joinRoom(c: TestClient, nick: string): Promise<Stanza> {
  const p = await enterRoom(c, `${ROOM}/${nick}`, { history: 0, timeoutMs: 20000 });
  assert.is(p.attrs.type, undefined, `${nick} joined`);
  return p;
}

const termsFrom = (c: TestClient, text: string) =>
  c.waitFor(
    (s) =>
      s.is('message') &&
      s.attrs.from === `${ROOM}/Peertube` &&
      s.getChild('x-livechat-terms')?.attrs.type === 'global' &&
      s.getChildText('body') === text,
    20000,
    `global terms "${text}"`,
  );

/** Sends a groupchat line; resolves 'echo' when the room relays it, or the error condition when it bounces. */
async function say(c: TestClient, body: string): Promise<string> {
  const id = `m${Math.random().toString(36).slice(2)}`;
  await c.send(xml('message', { to: ROOM, type: 'groupchat', id }, xml('body', {}, body)));
  const r = await c.waitFor((s) => s.is('message') && s.attrs.id === id, 20000, `echo or bounce of "${body}"`);
  if (r.attrs.type !== 'error') return 'echo';
  const conditions = (r.getChild('error')?.children ?? []).map((e: Stanza | string) =>
    typeof e === 'string' ? '' : e.name,
  );
  return conditions.find((n: string) => n !== '' && n !== 'text') ?? 'error';
}

t.before(async (ctx) => {
  ctx.clients = [];
  const { host, dir } = await installPlugin('peertube-wiring');
  ctx.host = host;
  ctx.dir = dir;
  ctx.host.db.addUser('root', 0, 'Administrator');
  const a = ctx.host.db.addUser('alice', 2, 'Alice Streamer');
  ctx.alice = a.user;
  ctx.host.db.addVideo('Alice live', a.channel.id, true, UUID);
  // Alice's PeerTube avatar: a plain red picture in two sizes, as PeerTube stores them.
  mkdirSync(join(ctx.dir, 'avatars'), { recursive: true });
  for (const w of [48, 120]) {
    await sharp({ create: { width: w, height: w, channels: 3, background: { r: 230, g: 20, b: 20 } } })
      .png()
      .toFile(join(ctx.dir, 'avatars', `alice-${w}.png`));
  }
  ctx.host.db.accounts.find((x) => x.userId === a.user.id)!.avatars = [48, 120].map((w) => ({
    filename: `alice-${w}.png`,
    width: w,
    height: w,
    type: 1 as const,
    onDisk: true,
    fileUrl: null,
  }));
  // What livechat left in its data folder: the channel's custom emojis and the streamer's bot settings.
  const data = ctx.host.dataDir();
  mkdirSync(join(data, 'emojis', 'channel', String(a.channel.id)), { recursive: true });
  writeFileSync(
    join(data, 'emojis', 'channel', String(a.channel.id), 'definition.json'),
    JSON.stringify({
      customEmojis: [
        { sn: ':alice_wave:', url: '/x/1.png' },
        { sn: ':party:', url: '/x/2.png', isCategoryEmoji: true },
      ],
    }),
  );
  mkdirSync(join(data, 'channelConfigurationOptions'), { recursive: true });
  writeFileSync(
    join(data, 'channelConfigurationOptions', `${a.channel.id}.json`),
    JSON.stringify({
      bot: { enabled: true, forbiddenWords: [], quotes: [], commands: [] },
      slowMode: { duration: 0 },
      terms: 'Channel rules: stay on topic.',
    }),
  );
  mkdirSync(join(data, 'bot', 'room.localhost', 'rooms'), { recursive: true });
  writeFileSync(
    join(data, 'bot', 'room.localhost', 'rooms', `${UUID}.json`),
    JSON.stringify({
      local: UUID,
      domain: 'room.localhost',
      nick: 'Sepia',
      enabled: true,
      handlers: [
        {
          type: 'moderate',
          id: 'forbidden_words_0',
          enabled: true,
          options: {
            rules: [
              { name: 'forbidden_words_0', regexp: '\\b(?:badword)\\b', modifiers: 'i', reason: 'Watch your language' },
            ],
          },
        },
      ],
    }),
  );
  // The admin saved the terms before the plugin started.
  void ctx.host.saveSettings({ 'chat-terms': 'Be kind in this chat.', 'chat-all-lives': true });
  await ctx.host.register();
  await ctx.host.settle();
});

t.after(async (ctx) => {
  for (const c of ctx.clients) await c.stop().catch(() => {});
  await disposePlugin(ctx);
});

t(
  "chat-terms: a viewer joining gets the global and the channel's terms from room/Peertube; a settings change reaches the next joiner",
  async (ctx) => {
    const v1 = await anon(ctx);
    await joinRoom(v1, 'viewer1');
    const m = await termsFrom(v1, 'Be kind in this chat.');
    assert.ok(m.getChild('no-store', 'urn:xmpp:hints'), 'never archived');
    const own = await v1.waitFor(
      (s) =>
        s.is('message') && s.attrs.from === `${ROOM}/Peertube` && s.getChild('x-livechat-terms')?.attrs.type === 'muc',
      20000,
      "the channel's own terms",
    );
    assert.is(
      own.getChildText('body'),
      'Channel rules: stay on topic.',
      "livechat's channel terms are the room's terms",
    );
    void ctx.host.saveSettings({ ...ctx.host.currentSettingsForm(), 'chat-terms': 'New rules: no spoilers.' });
    await ctx.host.settle();
    const v2 = await anon(ctx);
    await joinRoom(v2, 'viewer2');
    await termsFrom(v2, 'New rules: no spoilers.');
    assert.not.ok(
      v2.received.some((s) => s.getChildText('body') === 'Be kind in this chat.'),
      'old terms not shown any more',
    );
  },
);

t("the moderation bot reads the streamer's livechat bot file and retracts a forbidden word", async (ctx) => {
  const v = await anon(ctx);
  await joinRoom(v, 'rude');
  await v.waitFor((s) => s.is('presence') && s.attrs.from === `${ROOM}/Sepia`, 20000, 'the bot Sepia in the room');
  const id = 'rude1';
  await v.send(xml('message', { to: ROOM, type: 'groupchat', id }, xml('body', {}, 'this is a BADWORD indeed')));
  const echo = await v.waitFor(
    (s) => s.is('message') && s.attrs.id === id && s.attrs.type === 'groupchat',
    20000,
    'echo',
  );
  const stanzaId = echo.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id as string;
  assert.ok(stanzaId, 'stanza-id on the echo');
  const mod = await v.waitFor(
    (s) =>
      s.is('message') &&
      s.attrs.from === ROOM &&
      s.toString().includes(stanzaId) &&
      /moderat|retract/.test(s.toString()),
    20000,
    'moderation announcement for the forbidden word',
  );
  assert.match(mod.toString(), /Watch your language/);
  assert.is(await say(v, 'a perfectly fine line'), 'echo', 'other lines still go through');
});

t(
  "a logged-in user's occupant presence carries the hash of their PeerTube avatar, served by the plugin",
  async (ctx) => {
    const a = await alice(ctx);
    await joinRoom(a, 'Alice');
    const viewer = await anon(ctx);
    await joinRoom(viewer, 'watcher');
    // The provider's image is fetched in the background: the presence is republished once it is ready.
    const hashOf = (s: Stanza) => s.getChild('x', VCARD_UPDATE)?.getChildText('photo') ?? '';
    const first = viewer.received.find((s) => s.is('presence') && s.attrs.from === `${ROOM}/Alice`);
    assert.ok(first, 'alice listed to the viewer');
    const isRed = async (hash: string) => {
      const res = await fetch(`${ctx.host.url}/plugins/livechat/router/avatars/${hash}.png`);
      if (res.status !== 200) return false;
      const { data } = await sharp(Buffer.from(await res.arrayBuffer()))
        .raw()
        .toBuffer({ resolveWithObject: true });
      return data[0] > 200 && data[1] < 60 && data[2] < 60;
    };
    let hash = hashOf(first!);
    if (!(await isRed(hash))) {
      const again = await viewer.waitFor(
        (s) => s.is('presence') && s.attrs.from === `${ROOM}/Alice` && hashOf(s) !== '' && hashOf(s) !== hash,
        20000,
        'alice with her account avatar',
      );
      hash = hashOf(again);
    }
    assert.match(hash, /^[0-9a-f]{40}$/);
    assert.ok(await isRed(hash), "the served avatar is alice's red picture");
    const own = hashOf(viewer.received.find((s) => s.is('presence') && s.attrs.from === `${ROOM}/watcher`)!);
    assert.ok(own && own !== hash, 'an anonymous viewer keeps a computed avatar');
  },
);

t(
  "channel custom emojis: in emoji-only mode the channel's :shortnames: pass, text and unknown shortnames bounce",
  async (ctx) => {
    const owner = await alice(ctx);
    await joinRoom(owner, 'AliceOwner');
    const form = xml(
      'iq',
      { to: ROOM, type: 'set', id: 'cfg1' },
      xml(
        'query',
        { xmlns: MUC_OWNER },
        xml(
          'x',
          { xmlns: 'jabber:x:data', type: 'submit' },
          xml('field', { var: 'FORM_TYPE' }, xml('value', {}, 'http://jabber.org/protocol/muc#roomconfig')),
          xml('field', { var: 'muc#roomconfig_x_peertubelivechat_emoji_only_mode' }, xml('value', {}, '1')),
        ),
      ),
    );
    const r = await owner.iq(form, 20000);
    assert.is(r.attrs.type, 'result', 'owner turned emoji-only on');
    const v = await anon(ctx);
    await joinRoom(v, 'emojifan');
    assert.is(await say(v, ':alice_wave: 🎉 :party:'), 'echo', 'channel shortnames and Unicode emoji pass');
    assert.is(await say(v, 'hello'), 'policy-violation');
    assert.is(await say(v, ':not_this_channel:'), 'policy-violation');
  },
);

t.run();
