// livechat's chat-share-url setting in headless Chromium: on a watch page shaped like PeerTube's, the client script
// shows the "share chat link" button to those the setting names (everyone, the video's owner, the owner and instance
// moderators, nobody), as PeerTube's web client identifies them (localStorage username and role); the panel gives
// the chat page's permanent URL, read-only/transparent for OBS, or an iframe; and the shared read-only link opens a
// chat that shows the room's messages without a composer.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import type { PeerTubeHost } from './host/plugin-host.js';
import { disposePlugin, installPlugin } from './host/installed.js';
import { launchChromium, type Browser } from '../webchat/browser.js';
import { xml, type TestClient } from '../helpers/xmpp-client.js';
import { loginWithToken } from './host/router-api.js';

const UUID = '33333333-4444-4555-8666-777777777777';

interface Ctx {
  host: PeerTubeHost;
  dir: string;
  browser: Browser;
  videoId: number;
  owner?: TestClient;
}
const t = suite<Ctx>('PeerTube plugin: sharing the chat link');

t.before(async (ctx) => {
  const { host, dir } = await installPlugin('peertube-share');
  ctx.host = host;
  ctx.dir = dir;
  const alice = ctx.host.db.addUser('alice', 2, 'Alice Streamer');
  ctx.videoId = ctx.host.db.addVideo('Alice live', alice.channel.id, true, UUID).id;
  void ctx.host.saveSettings({ 'chat-all-lives': true });
  await ctx.host.register();
  await ctx.host.settle();
  ctx.browser = await launchChromium();
});

t.after(async (ctx) => {
  await ctx.owner?.stop();
  await ctx.browser?.close();
  await disposePlugin(ctx);
});

/** PeerTube's watch page for the live, as `who` (what PeerTube's web client keeps in localStorage), with the setting. */
async function watchPage(ctx: Ctx, share: string, who: { username?: string; role?: string }): Promise<Page> {
  const page = await ctx.browser.context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  const base = `/plugins/livechat/${ctx.host.pkg.version}`;
  // The video as PeerTube's API returns it: its account, local.
  const video = {
    ...(await ctx.host.runHook('filter:api.video.get.result', { ...ctx.host.db.loadVideo(ctx.videoId) } as any)),
    isLocal: true,
    account: { name: 'alice', host: 'localhost' },
  };
  const settings = { ...ctx.host.publicSettings(), 'chat-share-url': share, 'chat-auto-display': true };
  const html = `<!DOCTYPE html><html><body><div id="plugin-placeholder-player-next"></div>
<script type="module">
localStorage.clear();
${who.username ? `localStorage.setItem('username', ${JSON.stringify(who.username)});` : ''}
${who.role ? `localStorage.setItem('role', ${JSON.stringify(who.role)});` : ''}
const hooks = {};
const mod = await import('${base}/client-scripts/${ctx.host.pkg.clientScripts[0].script}');
await mod.register({
  registerHook: (h) => { (hooks[h.target] ??= []).push(h.handler); },
  registerVideoField: () => {},
  peertubeHelpers: { getSettings: async () => (${JSON.stringify(settings)}), getBaseRouterRoute: () => '${base}/router/', translate: async (s) => s },
});
for (const h of hooks['action:video-watch.video.loaded'] ?? []) h({ video: ${JSON.stringify(video)} });
window.pluginReady = true;
</script></body></html>`;
  await page.route(`${ctx.host.url}/w/${UUID}`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: html }),
  );
  await page.goto(`${ctx.host.url}/w/${UUID}`);
  await page.waitForFunction(() => (window as unknown as { pluginReady?: boolean }).pluginReady === true, null, {
    timeout: 15000,
  });
  await page.locator('#peertube-plugin-livechat-container iframe').waitFor({ state: 'attached', timeout: 10000 });
  assert.equal(problems, [], 'no script errors');
  return page;
}

async function seesShare(ctx: Ctx, share: string, who: { username?: string; role?: string }): Promise<boolean> {
  const page = await watchPage(ctx, share, who);
  const n = await page.locator('button.peertube-plugin-livechat-share-button').count();
  await page.close();
  return n === 1;
}

t('who sees the button follows chat-share-url, as livechat decides it', async (ctx) => {
  const owner = { username: 'alice', role: '2' };
  const other = { username: 'bob', role: '2' };
  const moderator = { username: 'mod', role: '1' };
  const anonymous = {};
  assert.equal(
    [
      await seesShare(ctx, 'owner', owner),
      await seesShare(ctx, 'owner', other),
      await seesShare(ctx, 'owner', moderator),
      await seesShare(ctx, 'owner', anonymous),
    ],
    [true, false, false, false],
    'owner (the default)',
  );
  assert.equal(
    [
      await seesShare(ctx, 'owner+moderators', owner),
      await seesShare(ctx, 'owner+moderators', moderator),
      await seesShare(ctx, 'owner+moderators', other),
    ],
    [true, true, false],
    'owner and moderators',
  );
  assert.equal(
    [await seesShare(ctx, 'everyone', anonymous), await seesShare(ctx, 'nobody', owner)],
    [true, false],
    'everyone, nobody',
  );
});

t(
  'the panel gives the permanent chat URL, read-only and transparent for OBS, or an iframe; the shared link works',
  async (ctx) => {
    const page = await watchPage(ctx, 'owner', { username: 'alice', role: '2' });
    const panel = page.locator('.peertube-plugin-livechat-share');
    assert.ok(await panel.isHidden(), 'closed until asked');
    await page.locator('button.peertube-plugin-livechat-share-button').click();
    await panel.waitFor({ state: 'visible', timeout: 5000 });
    const value = () => page.locator('.peertube-plugin-livechat-share input[name="share-url"]').inputValue();
    const plain = `${ctx.host.url}/plugins/livechat/router/webchat/room/${UUID}`;
    assert.is(await value(), plain, 'version-less: stays valid across plugin upgrades');
    assert.ok(await panel.locator('input[name="transparent"]').isDisabled(), 'transparent only with read-only');
    await panel.locator('input[name="readonly"]').check();
    await panel.locator('input[name="transparent"]').check();
    const obs = `${plain}?_readonly=true&_transparent=true`;
    assert.is(await value(), obs);
    assert.is(await panel.locator('a.peertube-plugin-livechat-share-open').getAttribute('href'), obs);
    await panel.locator('input[name="embed"]').check();
    const embed = await value();
    assert.match(embed, /^<iframe /);
    assert.ok(embed.includes(`src="${obs.replace(/&/g, '&amp;')}"`), embed);
    await page.close();

    // The shared OBS link: the chat without a composer, showing what is said in the room.
    ctx.owner = await loginWithToken(ctx, ctx.host.db.users[0].token, 'alice');
    const room = `${UUID}@room.localhost`;
    await ctx.owner.send(
      xml('presence', { to: `${room}/Alice` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
    );
    await ctx.owner.waitFor(
      (s) => s.is('presence') && s.attrs.from === `${room}/Alice` && !s.attrs.type,
      15000,
      'owner joined',
    );
    const obsPage = await ctx.browser.context.newPage();
    await obsPage.goto(obs);
    await ctx.owner.waitFor(
      (s) => s.is('presence') && (s.attrs.from ?? '').startsWith(`${room}/Viewer `) && !s.attrs.type,
      30000,
      'the OBS page in the room',
    );
    await obsPage.locator('converse-muc-chatarea').waitFor({ state: 'attached', timeout: 10000 });
    await ctx.owner.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, 'hello OBS')));
    await obsPage.locator('.chat-msg__text', { hasText: 'hello OBS' }).waitFor({ state: 'visible', timeout: 20000 });
    assert.is(
      await obsPage.locator('textarea.chat-textarea').filter({ visible: true }).count(),
      0,
      'read-only: no composer',
    );
    assert.ok(await obsPage.evaluate(() => document.body.classList.contains('webchat-transparent')), 'transparent');
    await obsPage.close();
  },
);

t.run();
