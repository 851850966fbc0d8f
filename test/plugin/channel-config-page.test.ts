// The channel chat configuration of the packed plugin in the PeerTube host emulation: livechat's emoji routes
// (api/configuration/channel/emojis/:id, its JSON and limits) and the channel moderator team route, with their
// permissions and 400 answers over HTTP; then the page the client script registers (registerClientRoute), driven in
// headless Chromium by the channel owner, while real XMPP clients in the live's room see the changes at once: the bot
// (through the channel options API) retracts a forbidden word and answers a command, a team
// member becomes moderator, a custom emoji passes emoji-only mode; and the chat page served by the plugin lets an
// instance admin pin a message the room's clients get.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { PeerTubeHost } from './host/plugin-host.js';
import { launchChromium, type Browser } from '../webchat/browser.js';
import { xml, type TestClient, type Stanza } from '../helpers/xmpp-client.js';
import { api, loginWithToken } from './host/router-api.js';
import { enterRoom } from '../helpers/muc-join.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const MUC_USER = 'http://jabber.org/protocol/muc#user';
// A 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const DATA_URL = `data:image/png;base64,${PNG.toString('base64')}`;

interface Ctx {
  host: PeerTubeHost;
  dir: string;
  browser: Browser;
  channelId: number;
  tokens: Record<'root' | 'alice' | 'bob' | 'carol', string>;
  room: string;
  alice: TestClient;
  carol: TestClient;
  bob: TestClient;
}

const t = suite<Ctx>('channel configuration: emojis and moderator team');

const xmppUser = (ctx: Ctx, name: 'alice' | 'bob' | 'carol'): Promise<TestClient> =>
  loginWithToken(ctx, ctx.tokens[name], name);

const enter = (c: TestClient, room: string, nick: string) => enterRoom(c, `${room}/${nick}`);

const itemOf = (s: Stanza) => s.getChild('x', MUC_USER)?.getChild('item')?.attrs ?? {};

t.before(async (ctx) => {
  const out = execFileSync('npm', ['run', '--silent', 'plugin:pack'], { cwd: root, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  if (!existsSync(out)) throw new Error(`no tgz: ${out}`);
  ctx.dir = mkdtempSync(join(tmpdir(), 'peertube-channel-config-'));
  ctx.host = new PeerTubeHost(ctx.dir);
  ctx.host.install(out);
  await ctx.host.listen();
  const rootUser = ctx.host.db.addUser('root', 0, 'Administrator');
  const alice = ctx.host.db.addUser('alice', 2, 'Alice Streamer');
  const bob = ctx.host.db.addUser('bob', 2, 'Bob Viewer');
  const carol = ctx.host.db.addUser('carol', 2, 'Carol Helper');
  ctx.tokens = { root: rootUser.user.token, alice: alice.user.token, bob: bob.user.token, carol: carol.user.token };
  ctx.channelId = alice.channel.id;
  const live = ctx.host.db.addVideo('Alice live', alice.channel.id, true, '12345678-aaaa-4bbb-8ccc-1234567890ab');
  await ctx.host.register();
  await ctx.host.runHook('action:api.live-video.created', undefined, {
    video: ctx.host.db.loadVideo(live.id),
    req: { body: { pluginData: { 'livechat-active': true } } },
  });
  await ctx.host.settle();
  ctx.room = `${live.uuid}@room.localhost`;
  ctx.alice = await xmppUser(ctx, 'alice');
  ctx.carol = await xmppUser(ctx, 'carol');
  ctx.bob = await xmppUser(ctx, 'bob');
  await enter(ctx.alice, ctx.room, 'Alice');
  await enter(ctx.carol, ctx.room, 'Carol');
  await enter(ctx.bob, ctx.room, 'Bob');
  ctx.browser = await launchChromium();
});

t.after(async (ctx) => {
  await ctx.browser?.close();
  for (const c of [ctx.alice, ctx.carol, ctx.bob]) await c?.stop();
  if (ctx.host) {
    await ctx.host.unregister().catch(() => undefined);
    await ctx.host.close();
  }
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

t('permissions: the channel owner and instance admins only; bad and unknown channels', async (ctx) => {
  const path = `/api/configuration/channel/emojis/${ctx.channelId}`;
  assert.is((await api(ctx, 'GET', path)).status, 403, 'anonymous');
  assert.is((await api(ctx, 'GET', path, ctx.tokens.bob)).status, 403, 'another user');
  assert.is(
    (
      await api(ctx, 'POST', `/api/configuration/channel/team/${ctx.channelId}`, ctx.tokens.bob, {
        team: [{ user: 'bob', role: 'owner' }],
      })
    ).status,
    403,
    'another user cannot make himself owner',
  );
  assert.is((await api(ctx, 'GET', '/api/configuration/channel/emojis/abc', ctx.tokens.alice)).status, 400);
  assert.is((await api(ctx, 'GET', '/api/configuration/channel/emojis/999', ctx.tokens.alice)).status, 404);
  const own = await api(ctx, 'GET', path, ctx.tokens.alice);
  assert.is(own.status, 200);
  assert.equal(own.json.emojis, { customEmojis: [] }, "livechat's empty definition");
  assert.is(own.json.channel.id, ctx.channelId);
  assert.equal(
    Object.keys(own.json.channel).sort(),
    ['displayName', 'id', 'name', 'ownerAccountId'],
    "livechat's channel object",
  );
  assert.is((await api(ctx, 'GET', path, ctx.tokens.root)).status, 200, 'instance admin');
  assert.equal(
    (await api(ctx, 'GET', `/api/configuration/channel/team/${ctx.channelId}`, ctx.tokens.alice)).json.team,
    [],
  );
});

t('bad bodies get 400 with a message naming the field, and change nothing', async (ctx) => {
  const path = `/api/configuration/channel/emojis/${ctx.channelId}`;
  const cases: Array<[unknown, RegExp]> = [
    [{ customEmojis: 'x' }, /customEmojis must be a list/],
    [{ customEmojis: [{ sn: 'no spaces allowed', url: DATA_URL }] }, /customEmojis\[0\]\.sn/],
    [
      {
        customEmojis: [
          { sn: ':a:', url: DATA_URL },
          { sn: ':a:', url: DATA_URL },
        ],
      },
      /customEmojis\[1\]\.sn: :a: is used twice/,
    ],
    [
      { customEmojis: [{ sn: ':big:', url: `data:image/png;base64,${Buffer.alloc(31 * 1024).toString('base64')}` }] },
      /customEmojis\[0\]\.url: image of 31744 bytes, at most 30720/,
    ],
    [{ customEmojis: [{ sn: ':svg:', url: 'data:image/svg;base64,PHN2Zy8+' }] }, /image type svg not allowed/],
    [
      { customEmojis: [{ sn: ':far:', url: 'https://elsewhere.example/1.png' }] },
      /customEmojis\[0\]\.url: a data:image URL or this channel's file URL/,
    ],
    [{ customEmojis: Array.from({ length: 201 }, (_, i) => ({ sn: `:e${i}:`, url: DATA_URL })) }, /at most 200 emojis/],
  ];
  for (const [body, message] of cases) {
    const r = await api(ctx, 'POST', path, ctx.tokens.alice, body);
    assert.is(r.status, 400, JSON.stringify(body).slice(0, 80));
    assert.match(r.json.validationErrorMessage, message);
  }
  const team = `/api/configuration/channel/team/${ctx.channelId}`;
  for (const [body, message] of [
    [{ team: [{ user: 'carol', role: 'moderator' }] }, /team\[0\]\.role: must be "admin" or "owner"/],
    [{ team: [{ user: 'nobody', role: 'admin' }] }, /team\[0\]\.user: no user nobody on this instance/],
    [
      {
        team: [
          { user: 'carol', role: 'admin' },
          { user: 'carol@localhost', role: 'owner' },
        ],
      },
      /team\[1\]\.user: carol@localhost is listed twice/,
    ],
    [{ members: [] }, /the body must be \{ team/],
  ] as Array<[unknown, RegExp]>) {
    const r = await api(ctx, 'POST', team, ctx.tokens.alice, body);
    assert.is(r.status, 400);
    assert.match(r.json.validationErrorMessage, message);
  }
  assert.equal((await api(ctx, 'GET', path, ctx.tokens.alice)).json.emojis, { customEmojis: [] });
  assert.equal((await api(ctx, 'GET', team, ctx.tokens.alice)).json.team, []);
});

/** PeerTube's plugin page (/p/<route>): the client script imported as PeerTube loads it, its registered route
 * mounted into the page's root element, with the logged-in user's auth header and PeerTube's `username` in
 * localStorage (PeerTube's web client keeps it there). Resolves with the left menu after the plugin's filter. */
async function openPluginPage(
  ctx: Ctx,
  page: Page,
  token: string,
  username: string,
  route = 'livechat/configuration/channel',
  query = `?channelId=${ctx.channelId}`,
  words: Record<string, string> = {},
): Promise<unknown> {
  const base = `/plugins/livechat/${ctx.host.pkg.version}`;
  const script = ctx.host.pkg.clientScripts.find((c) => c.script.includes('channel-config'))?.script;
  assert.ok(script, 'the channel configuration client script is declared in package.json');
  const url = `${ctx.host.url}/p/${route}${query}`;
  const html = `<!DOCTYPE html><html><body><div id="root"></div>
<script type="module">
localStorage.setItem('username', ${JSON.stringify(username)});
const routes = [];
const hooks = {};
const mod = await import('${base}/client-scripts/${script}');
await mod.register({
  registerHook: (h) => { (hooks[h.target] ??= []).push(h.handler); },
  registerClientRoute: (r) => routes.push(r),
  peertubeHelpers: {
    getBaseRouterRoute: () => '${base}/router/', getAuthHeader: () => ({ Authorization: 'Bearer ${token}' }), translate: async (s) => (${JSON.stringify(words)})[s] ?? s,
    getSettings: async () => (${JSON.stringify(ctx.host.publicSettings())}), isLoggedIn: () => true,
  },
});
let menu = [{ key: 'in-my-library', links: [{ path: '/my-library/videos' }] }];
for (const h of hooks['filter:left-menu.links.create.result'] ?? []) menu = await h(menu);
window.menu = menu;
window.routes = routes.map((r) => r.route);
const r = routes.find((x) => x.route === ${JSON.stringify(route)});
if (r) r.onMount({ rootEl: document.getElementById('root') });
window.pluginReady = true;
</script></body></html>`;
  await page.route(url, (r) => r.fulfill({ status: 200, contentType: 'text/html', body: html }));
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { pluginReady?: boolean }).pluginReady === true, null, {
    timeout: 20000,
  });
  return page.evaluate(() => (window as unknown as { menu: unknown }).menu);
}

async function openConfigPage(ctx: Ctx, page: Page, token: string): Promise<void> {
  await openPluginPage(ctx, page, token, 'alice');
  await page.locator('.livechat-config[data-ready="true"]').waitFor({ timeout: 20000 });
}

t(
  "the home page lists the user's channels (PeerTube's REST API) with links; the left menu gets an entry",
  async (ctx) => {
    const page = await ctx.browser.context.newPage();
    // PeerTube's own API, as its server answers it for alice's channels.
    await page.route(`${ctx.host.url}/api/v1/accounts/alice/video-channels?start=0&count=100&sort=name`, (r) =>
      r.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          total: 1,
          data: [{ id: ctx.channelId, name: 'alice_channel', displayName: 'Alice Streams' }],
        }),
      }),
    );
    // PeerTube translates through the plugin's languages file for the user's locale: French here.
    const fr = JSON.parse(
      readFileSync(join(ctx.host.pluginPath, ctx.host.pkg.translations['fr-FR']), 'utf8'),
    ) as Record<string, string>;
    const menu = await openPluginPage(ctx, page, ctx.tokens.alice, 'alice', 'livechat/configuration', '', fr);
    assert.equal(
      await page.evaluate(() => (window as unknown as { routes: string[] }).routes),
      ['livechat/configuration', 'livechat/configuration/channel', 'livechat/configuration/emojis'],
      "livechat's page addresses",
    );
    assert.equal(
      (menu as Array<{ links: Array<{ path: string; label?: string }> }>)[0].links.map((l) => [l.path, l.label]),
      [
        ['/p/livechat/configuration', 'Configuration du tchat'],
        ['/my-library/videos', undefined],
      ],
    );
    assert.is(await page.locator('.livechat-config h1').textContent(), 'Configuration du tchat');
    const link = page.locator('.livechat-config-channels a', { hasText: 'Alice Streams' });
    await link.waitFor({ timeout: 15000 });
    assert.is(await link.getAttribute('href'), `/p/livechat/configuration/channel?channelId=${ctx.channelId}`);
    await page.close();
  },
);

t('the page: the owner adds a moderator to the team; she becomes moderator in the live room at once', async (ctx) => {
  const page = await ctx.browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await openConfigPage(ctx, page, ctx.tokens.alice);
  const team = page.locator('.livechat-config-team');
  await team.locator('.livechat-config-team-add').click();
  await team.locator('input[name="team-user"]').last().fill('carol');
  const mark = ctx.carol.received.length;
  await team.locator('.livechat-config-team-save').click();
  await team.locator('.livechat-config-ok').waitFor({ timeout: 15000 });
  const promoted = await ctx.carol.waitFor(
    (s) =>
      ctx.carol.received.indexOf(s) >= mark &&
      s.is('presence') &&
      s.attrs.from === `${ctx.room}/Carol` &&
      itemOf(s).affiliation === 'admin',
    15000,
    'Carol made admin by the team',
  );
  assert.is(itemOf(promoted).role, 'moderator');
  assert.equal(
    (await api(ctx, 'GET', `/api/configuration/channel/team/${ctx.channelId}`, ctx.tokens.alice)).json.team,
    [{ user: 'carol', role: 'admin' }],
  );

  // A refused entry shows the server's message on the page and changes nothing.
  await team.locator('.livechat-config-team-add').click();
  await team.locator('input[name="team-user"]').last().fill('nobody');
  await team.locator('.livechat-config-team-save').click();
  await team
    .locator('.livechat-config-error', { hasText: 'no user nobody on this instance' })
    .waitFor({ timeout: 15000 });

  // Removing her from the team takes the rights back.
  await page.reload();
  await page.locator('.livechat-config[data-ready="true"]').waitFor({ timeout: 20000 });
  await team.locator('.livechat-config-member .livechat-config-remove').first().click();
  const mark2 = ctx.carol.received.length;
  await team.locator('.livechat-config-team-save').click();
  await team.locator('.livechat-config-ok').waitFor({ timeout: 15000 });
  await ctx.carol.waitFor(
    (s) =>
      ctx.carol.received.indexOf(s) >= mark2 &&
      s.is('presence') &&
      s.attrs.from === `${ctx.room}/Carol` &&
      itemOf(s).affiliation === 'none' &&
      itemOf(s).role === 'participant',
    15000,
    'Carol back to participant',
  );
  assert.equal(errors, []);
  await page.close();
});

t(
  'the page: the owner switches the bot on with a forbidden word; the bot retracts it in the live room',
  async (ctx) => {
    const page = await ctx.browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await openConfigPage(ctx, page, ctx.tokens.alice);
    const bot = page.locator('.livechat-config-bot');
    await bot.waitFor({ timeout: 10000 });
    await bot.locator('input[name="bot-enabled"]').check();
    await bot.locator('textarea[name="bot-forbidden-words"]').fill('badword\nworse');
    await bot.locator('textarea[name="bot-commands"]').fill('rules = Be kind');
    await bot.locator('.livechat-config-bot-save').click();
    await bot.locator('.livechat-config-ok').waitFor({ timeout: 15000 });
    const saved = (await api(ctx, 'GET', `/api/configuration/channel/${ctx.channelId}`, ctx.tokens.alice)).json
      .configuration.bot;
    assert.is(saved.enabled, true);
    assert.equal(saved.forbiddenWords[0].entries, ['badword', 'worse']);
    assert.equal(saved.commands, [{ command: 'rules', message: 'Be kind' }]);

    await ctx.alice.waitFor(
      (s) =>
        s.is('presence') &&
        s.attrs.from?.startsWith(`${ctx.room}/`) &&
        s.getChild('x', MUC_USER)?.getChild('item')?.attrs.jid?.startsWith('moderator@bot.'),
      20000,
      'the bot joins the live room',
    );
    await ctx.bob.send(xml('message', { to: ctx.room, type: 'groupchat' }, xml('body', {}, 'such a badword')));
    const msg = await ctx.alice.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'such a badword',
      10000,
      "Bob's message",
    );
    const id = msg.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id;
    await ctx.alice.waitFor(
      (s) => s.is('message') && s.getChild('apply-to', 'urn:xmpp:fasten:0')?.attrs.id === id,
      15000,
      'the bot retracts it',
    );
    await ctx.bob.send(xml('message', { to: ctx.room, type: 'groupchat' }, xml('body', {}, '!rules')));
    await ctx.bob.waitFor((s) => s.is('message') && s.getChildText('body') === 'Be kind', 15000, 'the command answer');
    assert.equal(errors, []);
    await page.close();
  },
);

t(
  'the page: the owner adds a custom emoji; emoji-only mode accepts it at once; files served as livechat serves them',
  async (ctx) => {
    // Emoji-only mode on (the owner's room configuration form): Bob's ":party:" bounces.
    const form = xml(
      'x',
      { xmlns: 'jabber:x:data', type: 'submit' },
      xml('field', { var: 'FORM_TYPE' }, xml('value', {}, 'http://jabber.org/protocol/muc#roomconfig')),
      xml('field', { var: 'muc#roomconfig_x_peertubelivechat_emoji_only_mode' }, xml('value', {}, '1')),
    );
    await ctx.alice.iq(
      xml('iq', { type: 'set', to: ctx.room }, xml('query', { xmlns: 'http://jabber.org/protocol/muc#owner' }, form)),
    );
    await ctx.bob.send(xml('message', { to: ctx.room, type: 'groupchat', id: 'before' }, xml('body', {}, ':party:')));
    const bounced = await ctx.bob.waitFor(
      (s) => s.is('message') && s.attrs.id === 'before' && s.attrs.type === 'error',
      10000,
      'bounce before the emoji exists',
    );
    assert.ok(bounced.getChild('error')?.getChild('policy-violation'));

    const page = await ctx.browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await openConfigPage(ctx, page, ctx.tokens.alice);
    const emojis = page.locator('.livechat-config-emojis');
    await emojis.locator('input[name="emoji-new-sn"]').fill(':party:');
    await emojis
      .locator('input[name="emoji-file"]')
      .setInputFiles({ name: 'party.png', mimeType: 'image/png', buffer: PNG });
    await emojis.locator('.livechat-config-emoji-add').click();
    await emojis.locator('.livechat-config-emoji input[name="emoji-sn"]').first().waitFor({ timeout: 5000 });
    await emojis.locator('.livechat-config-emojis-save').click();
    await emojis.locator('.livechat-config-ok').waitFor({ timeout: 15000 });

    await ctx.bob.send(xml('message', { to: ctx.room, type: 'groupchat', id: 'after' }, xml('body', {}, ':party:')));
    await ctx.alice.waitFor(
      (s) => s.is('message') && s.attrs.from === `${ctx.room}/Bob` && s.getChildText('body') === ':party:',
      10000,
      'the emoji passes now',
    );

    // livechat's JSON: the image became a file URL of this channel, served publicly with the definition.
    const got = (await api(ctx, 'GET', `/api/configuration/channel/emojis/${ctx.channelId}`, ctx.tokens.alice)).json;
    assert.is(got.emojis.customEmojis.length, 1);
    const { sn, url } = got.emojis.customEmojis[0];
    assert.is(sn, ':party:');
    assert.match(
      url,
      new RegExp(`^${ctx.host.url}/plugins/livechat/router/emojis/channel/${ctx.channelId}/files/\\d+\\.png$`),
    );
    const img = await fetch(url);
    assert.is(img.status, 200);
    assert.is(img.headers.get('content-type'), 'image/png');
    assert.equal(Buffer.from(await img.arrayBuffer()), PNG);
    const def = await api(ctx, 'GET', `/emojis/channel/${ctx.channelId}/definition`);
    assert.equal(def.json, got.emojis);
    // Saving the kept emoji again (its URL, not data) keeps the same file.
    const again = await api(
      ctx,
      'POST',
      `/api/configuration/channel/emojis/${ctx.channelId}`,
      ctx.tokens.alice,
      got.emojis,
    );
    assert.is(again.status, 200);
    assert.equal(again.json.emojis, got.emojis);
    assert.is((await fetch(url)).status, 200);
    assert.equal(errors, []);
    await page.close();
  },
);

t(
  "the chat page beside the live: an instance admin pins a message; the room's clients get it, the page shows it",
  async (ctx) => {
    const page = await ctx.browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Logged in to PeerTube (its web client keeps the token in localStorage), so the page chats as that account.
    await page.route(`${ctx.host.url}/login-done`, (r) =>
      r.fulfill({ status: 200, contentType: 'text/html', body: '<p>ok</p>' }),
    );
    await page.goto(`${ctx.host.url}/login-done`);
    await page.evaluate((token) => {
      localStorage.setItem('access_token', token);
      localStorage.setItem('token_type', 'Bearer');
    }, ctx.tokens.root);
    await page.goto(`${ctx.host.url}/plugins/livechat/router/webchat/room/${ctx.room.split('@')[0]}`);
    await page
      .locator('converse-muc-message-form textarea.chat-textarea')
      .waitFor({ state: 'visible', timeout: 30000 });
    await ctx.bob.waitFor(
      (s) => s.is('presence') && s.attrs.from === `${ctx.room}/Administrator` && !s.attrs.type,
      15000,
      'the admin joins from the page',
    );
    // From the owner: emoji-only mode, switched on above, lets moderators write text.
    await ctx.alice.send(
      xml('message', { to: ctx.room, type: 'groupchat' }, xml('body', {}, 'the stream starts at 8')),
    );
    const msg = page
      .locator('.chat-msg')
      .filter({ has: page.locator('.chat-msg__text', { hasText: 'the stream starts at 8' }) });
    await msg.waitFor({ state: 'visible', timeout: 15000 });
    await msg.hover();
    await msg.locator('.chat-msg__actions button.dropdown-toggle').click();
    await msg.locator('.chat-msg__action-pin').click();
    const pinned = await ctx.carol.waitFor(
      (s) => !!s.getChild('pinned', 'urn:livechat-xmpp:muc-pin:0'),
      15000,
      'the pin notice at another occupant',
    );
    const fwd = pinned
      .getChild('pinned', 'urn:livechat-xmpp:muc-pin:0')
      .getChild('forwarded', 'urn:xmpp:forward:0')
      .getChild('message');
    assert.is(fwd.getChildText('body'), 'the stream starts at 8');
    const banner = page.locator('#webchat-banners .webchat-pinned');
    await banner.waitFor({ state: 'visible', timeout: 15000 });
    assert.is(await banner.locator('.webchat-pinned__author').textContent(), 'Alice');
    assert.ok(await banner.locator('.webchat-pinned__unpin').isVisible(), 'a moderator can unpin');
    assert.equal(errors, []);
    await page.close();
  },
);

t('with "disable-channel-configuration" the routes answer 403 and the client registers no page', async (ctx) => {
  await ctx.host.saveSettings({ ...ctx.host.currentSettingsForm(), 'disable-channel-configuration': true });
  await ctx.host.settle();
  const r = await api(ctx, 'GET', `/api/configuration/channel/team/${ctx.channelId}`, ctx.tokens.alice);
  assert.is(r.status, 403);
  assert.match(r.json.error, /disabled/);
  const page = await ctx.browser.context.newPage();
  const menu = await openPluginPage(ctx, page, ctx.tokens.alice, 'alice');
  assert.equal(await page.evaluate(() => (window as unknown as { routes: string[] }).routes), []);
  assert.equal((menu as Array<{ links: unknown[] }>)[0].links.length, 1, 'no menu entry');
  await page.close();
});

t.run();
