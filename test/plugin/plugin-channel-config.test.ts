// livechat's channel configuration, room names and viewers' addresses in the plugin, driven through the PeerTube host
// emulation: the packed plugin installed with npm, the channel configuration API called over HTTP as the logged-in
// streamer, a moderator and others, @xmpp/client over the plugin's WebSocket route and raw BOSH on its router,
// PeerTube-shaped hook payloads for a video edit. What is checked is what users notice: who may read and save the
// options, the new room's slow mode, muted anonymous viewers, terms and bot; saving again reaches the existing room's
// terms and bot but not its owner's settings; the room follows the video title; auto-ban-anonymous-ip bans the
// viewer's own address (X-Forwarded-For from PeerTube's trusted proxy), and a forged header from elsewhere is ignored.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PeerTubeHost } from './host/plugin-host.js';
import { disposePlugin, installPlugin } from './host/installed.js';
import { connectClient, xml, type TestClient, type Stanza } from '../helpers/xmpp-client.js';
import { post, type RawResponse } from '../bosh/raw.js';
import { api, loginWithToken, wsService } from './host/router-api.js';
import { enterRoom } from '../helpers/muc-join.js';

const MUC = 'http://jabber.org/protocol/muc';
const MUC_USER = `${MUC}#user`;
const UUID = '22222222-3333-4444-8555-666666666666';
const ROOM = `${UUID}@room.localhost`;

interface User {
  id: number;
  token: string;
}
interface Ctx {
  host: PeerTubeHost;
  dir: string;
  alice: User;
  bob: User;
  mod: User;
  channelId: number;
  videoId: number;
  clients: TestClient[];
}

const t = suite<Ctx>("PeerTube plugin: channel configuration, room names, viewers' addresses");

/** An anonymous viewer over the plugin's WebSocket route, from `localAddress`, maybe with an X-Forwarded-For. */
async function viewer(ctx: Ctx, localAddress = '127.0.0.1', forwardedFor?: string): Promise<TestClient> {
  const headers: Record<string, string> = forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {};
  const c = await connectClient({ service: wsService(ctx), domain: 'anon.localhost', localAddress, headers });
  ctx.clients.push(c);
  return c;
}

async function account(ctx: Ctx, user: User, name: string): Promise<TestClient> {
  const c = await loginWithToken(ctx, user.token, name);
  ctx.clients.push(c);
  return c;
}

const enter = (c: TestClient, nick: string) => enterRoom(c, `${ROOM}/${nick}`, { history: 0 });

const errCond = (s: Stanza): string | undefined =>
  s
    .getChild('error')
    ?.children.find(
      (c: Stanza | string) =>
        typeof c !== 'string' && c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && c.name !== 'text',
    )?.name;

/** Sends a groupchat line: 'echo' when relayed, else the error condition. */
async function say(c: TestClient, body: string): Promise<{ result: string; echo?: Stanza }> {
  const id = `m${Math.random().toString(36).slice(2)}`;
  await c.send(xml('message', { to: ROOM, type: 'groupchat', id }, xml('body', {}, body)));
  const r = await c.waitFor((s) => s.is('message') && s.attrs.id === id, 20000, `echo or bounce of "${body}"`);
  return r.attrs.type === 'error' ? { result: errCond(r) ?? 'error' } : { result: 'echo', echo: r };
}

async function roomInfo(c: TestClient): Promise<{ name: string; features: string[]; fields: Record<string, string> }> {
  const r = await c.iq(
    xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
    20000,
  );
  const q = r.getChild('query')!;
  const fields: Record<string, string> = {};
  for (const f of q.getChild('x', 'jabber:x:data')?.getChildren('field') ?? [])
    fields[f.attrs.var] = f.getChildText('value') ?? '';
  return {
    name: q.getChild('identity')!.attrs.name,
    features: q.getChildren('feature').map((f: Stanza) => f.attrs.var),
    fields,
  };
}

const termsOf = (c: TestClient, text: string) =>
  c.waitFor(
    (s) =>
      s.is('message') &&
      s.attrs.from === `${ROOM}/Peertube` &&
      s.getChild('x-livechat-terms')?.attrs.type === 'muc' &&
      s.getChildText('body') === text,
    20000,
    `channel terms "${text}"`,
  );

/** The bot retracted the message whose echo is given, with this reason. */
const retractedBy = (c: TestClient, echo: Stanza, reason: RegExp) => {
  const stanzaId = echo.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id as string;
  return c.waitFor(
    (s) => s.is('message') && s.attrs.from === ROOM && s.toString().includes(stanzaId) && reason.test(s.toString()),
    20000,
    `the bot's retraction (${reason})`,
  );
};

function options(over: { slow?: number; terms?: string; words?: string[]; nickname?: string } = {}) {
  return {
    bot: {
      enabled: true,
      nickname: over.nickname ?? 'Sepia',
      forbiddenWords: [
        { entries: over.words ?? ['spoiler'], regexp: false, applyToModerators: false, reason: 'No spoilers here' },
      ],
      forbidSpecialChars: { enabled: false, reason: '', tolerance: 0, applyToModerators: false },
      noDuplicate: { enabled: false, reason: '', delay: 60, applyToModerators: false },
      quotes: [],
      commands: [],
    },
    slowMode: { duration: over.slow ?? 5 },
    mute: { anonymous: true },
    moderation: { delay: 0, anonymize: true },
    terms: over.terms ?? 'Channel rules: be nice.',
  };
}

t.before(async (ctx) => {
  ctx.clients = [];
  const { host, dir } = await installPlugin('peertube-channel');
  ctx.host = host;
  ctx.dir = dir;
  // This instance's admin set PeerTube's trust_proxy to the one local proxy (not all of loopback).
  ctx.host.app.set('trust proxy', ['127.0.0.1']);
  ctx.host.db.addUser('root', 0, 'Administrator');
  const a = ctx.host.db.addUser('alice', 2, 'Alice Streamer');
  ctx.alice = a.user;
  ctx.channelId = a.channel.id;
  a.channel.name = 'Alice Channel';
  a.channel.handle = 'alice_channel';
  ctx.bob = ctx.host.db.addUser('bob', 2, 'Bob Viewer').user;
  ctx.mod = ctx.host.db.addUser('mod', 1, 'Instance Moderator').user;
  ctx.videoId = ctx.host.db.addVideo('First title', a.channel.id, true, UUID).id;
  void ctx.host.saveSettings({ 'chat-all-lives': true, 'auto-ban-anonymous-ip': true });
  await ctx.host.register();
  await ctx.host.settle();
});

t.after(async (ctx) => {
  for (const c of ctx.clients) await c.stop().catch(() => {});
  await disposePlugin(ctx);
});

t('configuration API: the channel owner and instance moderators read it, others are refused', async (ctx) => {
  const path = `/api/configuration/channel/${ctx.channelId}`;
  assert.is((await api(ctx, 'GET', path)).status, 403, 'not logged in');
  assert.is((await api(ctx, 'GET', path, ctx.bob.token)).status, 403, 'another user');
  assert.is((await api(ctx, 'GET', '/api/configuration/channel/abc', ctx.alice.token)).status, 400, 'not a channel id');
  assert.is((await api(ctx, 'GET', '/api/configuration/channel/999', ctx.alice.token)).status, 404, 'unknown channel');
  const own = await api(ctx, 'GET', path, ctx.alice.token);
  assert.is(own.status, 200);
  assert.equal(own.json.channel, {
    id: ctx.channelId,
    name: 'alice_channel',
    displayName: 'Alice Channel',
    ownerAccountId: 2,
  });
  assert.equal(own.json.configuration.slowMode, { duration: 0 }, "livechat's defaults while nothing was saved");
  assert.equal(own.json.configuration.mute, { anonymous: false });
  assert.equal(own.json.configuration.moderation, { delay: 0, anonymize: false });
  assert.is(own.json.configuration.bot.nickname, 'Sepia');
  assert.is((await api(ctx, 'GET', path, ctx.mod.token)).status, 200, 'an instance moderator');
});

t("configuration API: saving stores livechat's file; bad options are refused with 400", async (ctx) => {
  const path = `/api/configuration/channel/${ctx.channelId}`;
  assert.is((await api(ctx, 'POST', path, ctx.bob.token, options())).status, 403, 'another user cannot save');
  assert.is(
    (await api(ctx, 'POST', path, ctx.alice.token, { ...options(), slowMode: { duration: 5000 } })).status,
    400,
    'slow mode above 1000 s',
  );
  const badRe = await api(ctx, 'POST', path, ctx.alice.token, {
    ...options(),
    bot: { ...options().bot, forbiddenWords: [{ entries: ['('], regexp: true }] },
  });
  assert.is(badRe.status, 400);
  assert.type(badRe.json.validationErrorMessage, 'string', 'the form gets the reason');
  const saved = await api(ctx, 'POST', path, ctx.alice.token, options());
  assert.is(saved.status, 200);
  assert.is(saved.json.configuration.slowMode.duration, 5);
  assert.is(saved.json.configuration.terms, 'Channel rules: be nice.');
  const file = JSON.parse(
    readFileSync(join(ctx.host.dataDir(), 'channelConfigurationOptions', `${ctx.channelId}.json`), 'utf8'),
  );
  assert.equal(file, saved.json.configuration, 'stored where livechat stores it, as answered');
  assert.is(file.bot.forbiddenWords[0].enabled, true, 'livechat fills in missing fields');
  assert.equal((await api(ctx, 'GET', path, ctx.mod.token)).json.configuration, file, 'read back');
});

t('a new room of the channel starts with its options: slow mode, muted anonymous viewers, terms, bot', async (ctx) => {
  const v = await viewer(ctx);
  assert.is((await enter(v, 'watcher')).attrs.type, undefined, 'the viewer joins (creating the room)');
  await termsOf(v, 'Channel rules: be nice.');
  const info = await roomInfo(v);
  assert.is(info.fields['muc#roominfo_slow_mode_duration'], '5', 'slow mode from the channel');
  assert.ok(info.features.includes('x_peertubelivechat_mute_anonymous'), 'anonymous viewers muted');
  assert.is((await say(v, 'can anyone hear me?')).result, 'forbidden', 'the anonymous viewer cannot talk');
  const bob = await account(ctx, ctx.bob, 'bob');
  await enter(bob, 'Bob');
  await bob.waitFor((s) => s.is('presence') && s.attrs.from === `${ROOM}/Sepia`, 20000, 'the bot in the new room');
  const first = await say(bob, 'huge spoiler: it ends well');
  assert.is(first.result, 'echo');
  await retractedBy(bob, first.echo!, /No spoilers here/);
  assert.is((await say(bob, 'sorry')).result, 'policy-violation', 'slow mode: a second line within 5 s bounces');
});

t("saving again reaches the existing room's terms and bot, not the settings its owner controls", async (ctx) => {
  const saved = await api(
    ctx,
    'POST',
    `/api/configuration/channel/${ctx.channelId}`,
    ctx.alice.token,
    options({ slow: 20, terms: 'New channel rules.', words: ['forbidden3'] }),
  );
  assert.is(saved.status, 200);
  const v = await viewer(ctx);
  await enter(v, 'latecomer');
  await termsOf(v, 'New channel rules.');
  assert.is(
    (await roomInfo(v)).fields['muc#roominfo_slow_mode_duration'],
    '5',
    'the existing room keeps its slow mode (as livechat)',
  );
  const bob = ctx.clients.find((c) => c.jid.startsWith('bob@'))!;
  // Past Bob's slow-mode window from the previous test.
  const start = Date.now();
  while (Date.now() - start < 5200) await new Promise((r) => setTimeout(r, 250));
  const line = await say(bob, 'this is forbidden3 talk');
  assert.is(line.result, 'echo');
  await retractedBy(bob, line.echo!, /No spoilers here/);
});

t('the room name follows the video title (104 to occupants), nothing else of the room changes', async (ctx) => {
  const v = await viewer(ctx);
  await enter(v, 'namewatcher');
  assert.is((await roomInfo(v)).name, 'First title');
  ctx.host.db.videos.find((x) => x.id === ctx.videoId)!.name = 'Second title';
  await ctx.host.runHook('action:api.video.updated', undefined, {
    video: ctx.host.db.loadVideo(ctx.videoId),
    body: { name: 'Second title' },
  });
  await ctx.host.settle();
  await v.waitFor(
    (s) =>
      s.is('message') &&
      s.attrs.from === ROOM &&
      !!s
        .getChild('x', MUC_USER)
        ?.getChildren('status')
        .some((x: Stanza) => x.attrs.code === '104'),
    20000,
    'status 104',
  );
  const info = await roomInfo(v);
  assert.is(info.name, 'Second title');
  assert.is(info.fields['muc#roominfo_slow_mode_duration'], '5', 'the rest of the configuration is kept');
  assert.ok(info.features.includes('x_peertubelivechat_mute_anonymous'));
});

/** A BOSH login and join from 127.0.0.1 with an X-Forwarded-For; the join's outcome. */
async function boshJoin(ctx: Ctx, forwardedFor: string, nick: string): Promise<Stanza> {
  const url = `${ctx.host.url}/plugins/livechat/router/http-bind`;
  const h = { 'x-forwarded-for': forwardedFor };
  let rid = 1000 + Math.floor(Math.random() * 1e6);
  const NS = "xmlns='http://jabber.org/protocol/httpbind'";
  const created = await post(
    url,
    `<body rid='${rid}' to='anon.localhost' wait='2' hold='1' ver='1.6' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh' ${NS}/>`,
    h,
  );
  const sid = created.body.attrs.sid as string;
  assert.ok(sid, `BOSH session: ${created.text}`);
  const send = (inner: string, extra = ''): Promise<RawResponse> =>
    post(url, `<body rid='${++rid}' sid='${sid}' ${extra} ${NS}>${inner}</body>`, h);
  await send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  await send('', "to='anon.localhost' xmpp:restart='true' xmlns:xmpp='urn:xmpp:xbosh'");
  await send("<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  let r = await send(
    `<presence xmlns='jabber:client' to='${ROOM}/${nick}'><x xmlns='${MUC}'><history maxstanzas='0'/></x></presence>`,
  );
  for (let i = 0; i < 20; i++) {
    const p = r.body.getChildren('presence').find((x: Stanza) => x.attrs.from === `${ROOM}/${nick}`);
    if (p) return p as unknown as Stanza;
    r = await send('');
  }
  throw new Error(`no join outcome for ${nick} over BOSH`);
}

t(
  "auto-ban-anonymous-ip: banning a viewer bans its own address behind PeerTube's proxy; a forged header is ignored",
  async (ctx) => {
    // The chat page loads through PeerTube (Express) before its WebSocket opens.
    assert.is((await fetch(`${ctx.host.url}/plugins/livechat/router/webchat/room/${UUID}`)).status, 200);
    const owner = await account(ctx, ctx.alice, 'alice');
    await enter(owner, 'Alice');
    const troll = await viewer(ctx, '127.0.0.1', '198.51.100.1');
    await enter(troll, 'Troll');
    const other = await viewer(ctx, '127.0.0.1', '198.51.100.2');
    await enter(other, 'Other');
    const ban = async (c: TestClient) => {
      await owner.iq(
        xml(
          'iq',
          { type: 'set', to: ROOM },
          xml('query', { xmlns: `${MUC}#admin` }, xml('item', { jid: c.jid.split('/')[0], affiliation: 'outcast' })),
        ),
        20000,
      );
      await c.waitFor(
        (s) =>
          s.is('presence') &&
          s.attrs.type === 'unavailable' &&
          !!s
            .getChild('x', MUC_USER)
            ?.getChildren('status')
            .some((x: Stanza) => x.attrs.code === '301'),
        20000,
        'banned',
      );
    };
    await ban(troll);
    assert.not.ok(
      other.received.some(
        (s) => s.is('presence') && s.attrs.from === `${ROOM}/Other` && s.attrs.type === 'unavailable',
      ),
      'the other viewer behind the proxy stays',
    );
    assert.is(
      errCond(await enter(await viewer(ctx, '127.0.0.1', '198.51.100.1'), 'TrollAgain')),
      'forbidden',
      'same address, new anonymous JID: refused',
    );
    assert.is(
      (await enter(await viewer(ctx, '127.0.0.1', '198.51.100.2'), 'Other2')).attrs.type,
      undefined,
      'another address joins',
    );
    // BOSH goes through PeerTube's router: Express's req.ip.
    assert.is(errCond(await boshJoin(ctx, '198.51.100.1', 'TrollBosh')), 'forbidden', 'over BOSH too');
    assert.is(
      (await boshJoin(ctx, '198.51.100.9', 'FineBosh')).attrs.type,
      undefined,
      'another address over BOSH joins',
    );
    // 127.0.0.2 is not a proxy PeerTube trusts here: its X-Forwarded-For is ignored.
    const forger = await viewer(ctx, '127.0.0.2', '203.0.113.1');
    await enter(forger, 'Forger');
    await ban(forger);
    assert.is(
      errCond(await enter(await viewer(ctx, '127.0.0.2', '203.0.113.2'), 'Forger2')),
      'forbidden',
      'a new forged address does not get back in',
    );
  },
);

t(
  'one room per channel: the room is named after the channel, starts with its options, follows a channel rename',
  async (ctx) => {
    void ctx.host.saveSettings({ ...ctx.host.currentSettingsForm(), 'prosody-room-type': 'channel' });
    await ctx.host.settle();
    const room = `channel.${ctx.channelId}@room.localhost`;
    const v = await viewer(ctx);
    await v.send(xml('presence', { to: `${room}/chanwatcher` }, xml('x', { xmlns: MUC })));
    const self = await v.waitFor(
      (s) => s.is('presence') && s.attrs.from === `${room}/chanwatcher`,
      20000,
      'join of the channel room',
    );
    assert.is(self.attrs.type, undefined, 'joined');
    const info = async () => {
      const r = await v.iq(
        xml('iq', { type: 'get', to: room }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
        20000,
      );
      const q = r.getChild('query')!;
      const slow = q
        .getChild('x', 'jabber:x:data')
        ?.getChildren('field')
        .find((f: Stanza) => f.attrs.var === 'muc#roominfo_slow_mode_duration');
      return { name: q.getChild('identity')!.attrs.name as string, slow: slow?.getChildText('value') };
    };
    assert.equal(
      await info(),
      { name: 'Alice Channel', slow: '20' },
      "the channel's display name and its latest slow mode",
    );
    ctx.host.db.channels.find((c) => c.id === ctx.channelId)!.name = 'Alice Live Channel';
    await ctx.host.runHook('action:api.video-channel.updated', undefined, {
      videoChannel: { id: ctx.channelId, name: 'Alice Live Channel' },
    });
    await ctx.host.settle();
    await v.waitFor(
      (s) =>
        s.is('message') &&
        s.attrs.from === room &&
        !!s
          .getChild('x', MUC_USER)
          ?.getChildren('status')
          .some((x: Stanza) => x.attrs.code === '104'),
      20000,
      'status 104',
    );
    assert.equal(await info(), { name: 'Alice Live Channel', slow: '20' });
  },
);

t('with "disable-channel-configuration" ticked, the API refuses everyone, the owner included', async (ctx) => {
  void ctx.host.saveSettings({ ...ctx.host.currentSettingsForm(), 'disable-channel-configuration': true });
  await ctx.host.settle();
  const path = `/api/configuration/channel/${ctx.channelId}`;
  assert.is((await api(ctx, 'GET', path, ctx.alice.token)).status, 403);
  assert.is((await api(ctx, 'POST', path, ctx.mod.token, options())).status, 403);
});

t.run();
