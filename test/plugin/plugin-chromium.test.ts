// The packed plugin in the PeerTube host emulation, used from headless Chromium: the client script puts the chat
// beside a live on a watch page (iframe + "open in a new window"), an anonymous viewer chats from it through
// ConverseJS, and a viewer logged in to PeerTube chats under their PeerTube name without a nickname prompt.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import type { PeerTubeHost } from './host/plugin-host.js';
import { disposePlugin, installPlugin } from './host/installed.js';
import { launchChromium, type Browser } from '../webchat/browser.js';
import { xml, type TestClient, type Stanza } from '../helpers/xmpp-client.js';
import { loginWithToken } from './host/router-api.js';

const MUC = 'http://jabber.org/protocol/muc';

interface Ctx {
  host: PeerTubeHost;
  dir: string;
  browser: Browser;
  owner: TestClient;
  live: { id: number; uuid: string };
  bobToken: string;
  room: string;
}

const t = suite<Ctx>('PeerTube plugin in Chromium');

function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (process.env.WEBCHAT_DEBUG) console.log(`[browser ${m.type()}] ${m.text()}`);
  });
  return problems;
}

t.before(async (ctx) => {
  const { host, dir } = await installPlugin('peertube-chromium');
  ctx.host = host;
  ctx.dir = dir;
  const alice = ctx.host.db.addUser('alice', 2, 'Alice Streamer');
  const bob = ctx.host.db.addUser('bob', 2, 'Bob Viewer');
  ctx.bobToken = bob.user.token;
  ctx.live = ctx.host.db.addVideo('Alice live', alice.channel.id, true, 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
  await ctx.host.register();
  await ctx.host.runHook('action:api.video.updated', undefined, {
    video: ctx.host.db.loadVideo(ctx.live.id),
    body: { pluginData: { 'livechat-active': true } },
  });
  await ctx.host.settle();
  ctx.room = `${ctx.live.uuid}@room.localhost`;
  ctx.owner = await loginWithToken(ctx, alice.user.token, 'alice');
  await ctx.owner.send(xml('presence', { to: `${ctx.room}/Alice` }, xml('x', { xmlns: MUC })));
  await ctx.owner.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${ctx.room}/Alice` && !s.attrs.type,
    15000,
    'owner joined',
  );
  ctx.browser = await launchChromium();
});

t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.owner?.stop();
  await disposePlugin(ctx);
});

/** A watch page shaped like PeerTube's: the player's neighbour placeholder, the plugin's client script loaded as
 * PeerTube loads it (import() of the client-scripts URL, then register() with its helpers), then the
 * video-loaded action with the video as PeerTube's API gives it. */
async function openWatchPage(ctx: Ctx, page: Page): Promise<void> {
  const base = `/plugins/livechat/${ctx.host.pkg.version}`;
  const video = await ctx.host.runHook('filter:api.video.get.result', {
    ...ctx.host.db.loadVideo(ctx.live.id),
    isLocal: true,
  } as any);
  const settings = ctx.host.publicSettings();
  const html = `<!DOCTYPE html><html><body><div id="player"></div><div id="plugin-placeholder-player-next"></div>
<script type="module">
const hooks = {};
const mod = await import('${base}/client-scripts/${ctx.host.pkg.clientScripts[0].script}');
await mod.register({
  registerHook: (h) => { (hooks[h.target] ??= []).push(h.handler); },
  registerVideoField: (f, o) => { (window.fields ??= []).push([f.name, o.type]); },
  peertubeHelpers: {
    getSettings: async () => (${JSON.stringify(settings)}),
    getBaseRouterRoute: () => '${base}/router/',
    translate: async (s) => s,
  },
});
for (const h of hooks['action:video-watch.video.loaded'] ?? []) h({ video: ${JSON.stringify(video)} });
window.pluginReady = true;
</script></body></html>`;
  await page.route(`${ctx.host.url}/w/${ctx.live.uuid}`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: html }),
  );
  await page.goto(`${ctx.host.url}/w/${ctx.live.uuid}`);
  await page.waitForFunction(() => (window as unknown as { pluginReady?: boolean }).pluginReady === true, null, {
    timeout: 15000,
  });
}

t('watch page: the client script shows the chat beside the live; an anonymous viewer chats through it', async (ctx) => {
  const page = await ctx.browser.context.newPage();
  const problems = watch(page);
  // PeerTube rate-limits /plugins/* per IP (500 per 10 s): what one viewer spends on opening the chat.
  const pluginResponses: number[] = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/plugins/')) pluginResponses.push(r.status());
  });
  await openWatchPage(ctx, page);
  const fields = await page.evaluate(() => (window as unknown as { fields?: string[][] }).fields);
  assert.equal(
    fields,
    [
      ['livechat-active', 'go-live'],
      ['livechat-active', 'update'],
    ],
    '"use chat" on live creation and update',
  );
  const open = page.locator('#peertube-plugin-livechat-container a.peertube-plugin-livechat-open-blank');
  await open.waitFor({ state: 'visible', timeout: 10000 });
  assert.is(
    await open.getAttribute('href'),
    `/plugins/livechat/${ctx.host.pkg.version}/router/webchat/room/${ctx.live.uuid}`,
  );
  const frame = page.frameLocator('#peertube-plugin-livechat-container iframe');
  const nick = frame.locator('converse-muc-nickname-form input[name="nick"]');
  await nick.waitFor({ state: 'visible', timeout: 30000 });
  await nick.fill('Carol');
  await nick.press('Enter');
  const composer = frame.locator('converse-muc-message-form textarea.chat-textarea');
  await composer.waitFor({ state: 'visible', timeout: 20000 });
  await ctx.owner.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${ctx.room}/Carol` && !s.attrs.type,
    15000,
    'Carol joining',
  );
  await composer.fill('hello from the watch page');
  await composer.press('Enter');
  const msg = await ctx.owner.waitFor(
    (s: Stanza) =>
      s.is('message') && s.attrs.from === `${ctx.room}/Carol` && s.getChildText('body') === 'hello from the watch page',
    15000,
    "Carol's message",
  );
  assert.ok(msg);
  await ctx.owner.send(
    xml('message', { to: ctx.room, type: 'groupchat' }, xml('body', {}, 'hi Carol, thanks for watching')),
  );
  await frame
    .locator('.chat-msg__text', { hasText: 'hi Carol, thanks for watching' })
    .waitFor({ state: 'visible', timeout: 15000 });
  assert.equal(problems, []);
  assert.not.ok(pluginResponses.includes(429), 'no request rate-limited');
  // A cold load is the page, ConverseJS's files and the avatars on screen: a small share of the per-IP budget, so
  // viewers behind one address (a school, a household) can open the chat together.
  assert.ok(pluginResponses.length <= 50, `${pluginResponses.length} requests through the plugin routes`);
  await page.close();
});

t('a viewer logged in to PeerTube chats under their PeerTube name, with no nickname prompt', async (ctx) => {
  const page = await ctx.browser.context.newPage();
  const problems = watch(page);
  // PeerTube's web client keeps the session token in localStorage on its origin.
  await page.route(`${ctx.host.url}/login-done`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<p>ok</p>' }),
  );
  await page.goto(`${ctx.host.url}/login-done`);
  await page.evaluate((token) => {
    localStorage.setItem('access_token', token);
    localStorage.setItem('token_type', 'Bearer');
  }, ctx.bobToken);
  await page.goto(`${ctx.host.url}/plugins/livechat/router/webchat/room/${ctx.live.uuid}`);
  const composer = page.locator('converse-muc-message-form textarea.chat-textarea');
  await composer.waitFor({ state: 'visible', timeout: 30000 });
  const joined = await ctx.owner.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${ctx.room}/Bob Viewer` && !s.attrs.type,
    15000,
    'Bob joining under his PeerTube name',
  );
  const item = joined.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChild('item');
  assert.match(String(item?.attrs.jid), /^bob@localhost\//, 'logged in as bob@localhost (the owner sees real JIDs)');
  await composer.fill('Bob here, logged in');
  await composer.press('Enter');
  await ctx.owner.waitFor(
    (s) =>
      s.is('message') && s.attrs.from === `${ctx.room}/Bob Viewer` && s.getChildText('body') === 'Bob here, logged in',
    15000,
    "Bob's message",
  );
  assert.equal(problems, []);
  await page.close();
});

t(
  "with disable-websocket the page chats over BOSH through the plugin router (PeerTube's body parsers in front)",
  async (ctx) => {
    void ctx.host.saveSettings({ ...ctx.host.currentSettingsForm(), 'disable-websocket': true });
    await ctx.host.settle();
    const page = await ctx.browser.context.newPage();
    const problems = watch(page);
    const bosh: string[] = [];
    let websockets = 0;
    page.on('request', (r) => {
      if (r.method() === 'POST' && /\/plugins\/livechat\/router\/http-bind/.test(r.url())) bosh.push(r.url());
    });
    page.on('websocket', () => {
      websockets++;
    });
    await page.route(`${ctx.host.url}/blank`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<p>ok</p>' }),
    );
    await page.goto(`${ctx.host.url}/blank`);
    await page.evaluate(() => localStorage.clear());
    await page.goto(`${ctx.host.url}/plugins/livechat/router/webchat/room/${ctx.live.uuid}`);
    const nick = page.locator('converse-muc-nickname-form input[name="nick"]');
    await nick.waitFor({ state: 'visible', timeout: 30000 });
    await nick.fill('Dana');
    await nick.press('Enter');
    const composer = page.locator('converse-muc-message-form textarea.chat-textarea');
    await composer.waitFor({ state: 'visible', timeout: 20000 });
    await composer.fill('over BOSH via PeerTube');
    await composer.press('Enter');
    await ctx.owner.waitFor(
      (s) =>
        s.is('message') && s.attrs.from === `${ctx.room}/Dana` && s.getChildText('body') === 'over BOSH via PeerTube',
      15000,
      "Dana's message over BOSH",
    );
    assert.ok(bosh.length > 0, 'BOSH requests went to the plugin router');
    assert.is(websockets, 0, 'no WebSocket attempted');
    assert.equal(problems, []);
    await page.close();
  },
);

t.run();
