// The web chat page's moderation tools in headless Chromium against our server: a moderator (an anonymous viewer
// the owner made admin) pins a message from its action menu and a second viewer's page shows it above the chat until
// the moderator unpins it (or the message is moderated away); the moderator bans an account for a few seconds from
// the occupant's menu and that account cannot rejoin until the ban ends; with the participant list limited to
// moderators, viewers see the viewer counter.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchChromium, type Browser } from './browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  Clients,
  HOST,
  USER,
  codes,
  configure,
  errCond,
  joinRoom,
  setAffiliation,
  tryJoin,
  xml,
  type TestClient,
} from '../moderation/room-client.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const ROOM = 'live';
const ROOM_JID = `${ROOM}@${HOST}`;
const BAN_SECONDS = 10;

interface Ctx {
  srv: TestServer;
  browser: Browser;
  clients: Clients;
  owner: TestClient;
  mod: Page;
  viewer: Page;
  problems: string[];
}

const t = suite<Ctx>('web chat moderation tools in Chromium');

function watch(ctx: Ctx, page: Page, name: string): void {
  page.on('pageerror', (e) => ctx.problems.push(`${name} pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|webchat: moderation/i.test(m.text())) ctx.problems.push(`${name}: ${m.text()}`);
    if (process.env.WEBCHAT_DEBUG) console.log(`[${name} ${m.type()}] ${m.text()}`);
  });
}

async function openChat(ctx: Ctx, nick: string): Promise<Page> {
  const page = await ctx.browser.context.newPage();
  watch(ctx, page, nick);
  const res = await page.goto(`${ctx.srv.httpUrl}/webchat/room/${ROOM}`);
  assert.is(res?.status(), 200);
  const input = page.locator('converse-muc-nickname-form input[name="nick"]');
  await input.waitFor({ state: 'visible', timeout: 30000 });
  await input.fill(nick);
  await input.press('Enter');
  await page.locator('converse-muc-message-form textarea.chat-textarea').waitFor({ state: 'visible', timeout: 20000 });
  return page;
}

const occupantRow = (page: Page, nick: string) =>
  page.locator('li.occupant').filter({ has: page.locator('.occupant-nick', { hasText: new RegExp(`^${nick}$`) }) });

t.before(async (ctx) => {
  ctx.problems = [];
  ctx.srv = await startTestServer({ testMode: true, webchat: { tempBanDurations: [BAN_SECONDS, 600, 3600] } });
  ctx.clients = new Clients(() => ctx.srv);
  ctx.owner = await ctx.clients.user('owner');
  await joinRoom(ctx.owner, ROOM, 'Owner');
  ctx.browser = await launchChromium();
  ctx.mod = await openChat(ctx, 'Mod');
  // The owner makes the browser viewer an admin (the room shows its real JID to the owner).
  const modPresence = await ctx.owner.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${ROOM_JID}/Mod` && !s.attrs.type,
    15000,
    'Mod joining',
  );
  const modJid = modPresence.getChild('x', USER)?.getChild('item')?.attrs.jid as string;
  assert.ok(modJid, 'the owner sees the real JID of Mod');
  await setAffiliation(ctx.owner, ROOM, modJid.split('/')[0], 'admin');
  // Its own row gets the admin and moderator badges once the page knows.
  await occupantRow(ctx.mod, 'Mod').locator('.badge').nth(1).waitFor({ state: 'attached', timeout: 15000 });
  ctx.viewer = await openChat(ctx, 'Viewer');
});

t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.clients?.stopAll();
  await ctx.srv?.stop();
});

t(
  'a moderator pins a message from its menu; another viewer sees it above the chat; unpinning removes it',
  async (ctx) => {
    const text = `Rules: be kind ${Date.now()}`;
    await ctx.owner.send(xml('message', { to: ROOM_JID, type: 'groupchat' }, xml('body', {}, text)));
    const msg = ctx.mod.locator('.chat-msg').filter({ has: ctx.mod.locator('.chat-msg__text', { hasText: text }) });
    await msg.waitFor({ state: 'visible', timeout: 15000 });
    await msg.hover();
    await msg.locator('.chat-msg__actions button.dropdown-toggle').click();
    await msg.locator('.chat-msg__action-pin').click();

    const banner = ctx.viewer.locator('#webchat-banners .webchat-pinned');
    await banner.waitFor({ state: 'visible', timeout: 15000 });
    assert.is(await banner.locator('.webchat-pinned__text').textContent(), text);
    assert.is(await banner.locator('.webchat-pinned__author').textContent(), 'Owner');
    assert.not.ok(await banner.locator('.webchat-pinned__unpin').isVisible(), 'a viewer has no unpin button');
    // The banner sits above the chat: the chat's top edge is below it.
    const geo = (await ctx.viewer.evaluate(`(() => {
    const b = document.getElementById('webchat-banners').getBoundingClientRect();
    const c = document.querySelector('converse-chats').getBoundingClientRect();
    return { bannerBottom: b.bottom, chatTop: c.top };
  })()`)) as { bannerBottom: number; chatTop: number };
    assert.ok(geo.chatTop >= geo.bannerBottom - 1, `chat starts below the banner (${JSON.stringify(geo)})`);
    // A viewer arriving later gets it on join (an @xmpp/client occupant, as any other client).
    const late = await ctx.clients.viewer();
    await joinRoom(late, ROOM, 'Late');
    assert.ok(
      late.received.some((s) => s.getChild('pinned', 'urn:livechat-xmpp:muc-pin:0')),
      'joiner gets the pinned message',
    );

    await mkdir(ARTIFACTS, { recursive: true });
    await ctx.viewer.screenshot({ path: `${ARTIFACTS}webchat-pinned.png` });

    const modBanner = ctx.mod.locator('#webchat-banners .webchat-pinned');
    await modBanner.waitFor({ state: 'visible', timeout: 10000 });
    await modBanner.locator('.webchat-pinned__unpin').click();
    await banner.waitFor({ state: 'hidden', timeout: 15000 });

    // Pinned again, then moderated away (XEP-0425): the pinned strip goes with the message.
    await msg.hover();
    await msg.locator('.chat-msg__actions button.dropdown-toggle').click();
    await msg.locator('.chat-msg__action-pin').click();
    const pin = await late.waitFor((s) => !!s.getChild('pinned', 'urn:livechat-xmpp:muc-pin:0'), 15000, 'pinned again');
    await banner.waitFor({ state: 'visible', timeout: 15000 });
    const id = pin.getChild('pinned', 'urn:livechat-xmpp:muc-pin:0').attrs.id as string;
    await ctx.owner.iq(
      xml(
        'iq',
        { type: 'set', to: ROOM_JID },
        xml(
          'moderate',
          { xmlns: 'urn:xmpp:message-moderate:1', id },
          xml('retract', { xmlns: 'urn:xmpp:message-retract:1' }),
        ),
      ),
    );
    await banner.waitFor({ state: 'hidden', timeout: 15000 });
    await late.stop();
  },
);

t(
  'an admin bans an account for a few seconds from the occupant menu; it cannot rejoin until the ban ends',
  async (ctx) => {
    const troll = await ctx.clients.user('troll');
    await joinRoom(troll, ROOM, 'Troll');
    const row = occupantRow(ctx.mod, 'Troll');
    await row.waitFor({ state: 'visible', timeout: 15000 });
    await row.hover();
    await row.locator('converse-dropdown.occupant-actions button.dropdown-toggle').click();
    // The three configured durations are offered.
    for (const s of [BAN_SECONDS, 600, 3600])
      await row.locator(`.webchat-ban-${s}`).waitFor({ state: 'visible', timeout: 5000 });
    assert.is((await row.locator('.webchat-ban-600').textContent())?.trim(), 'Ban for 10 min');
    const bannedAt = Date.now();
    await row.locator(`.webchat-ban-${BAN_SECONDS}`).click();

    await troll.waitFor(
      (s) =>
        s.is('presence') &&
        s.attrs.type === 'unavailable' &&
        s.attrs.from === `${ROOM_JID}/Troll` &&
        codes(s).includes('301'),
      10000,
      'Troll banned (301)',
    );
    await ctx.mod
      .locator('#webchat-banners .webchat-notice', { hasText: `Troll is banned for ${BAN_SECONDS} s` })
      .waitFor({ state: 'visible', timeout: 10000 });
    const refused = await tryJoin(troll, ROOM_JID, 'Troll', 15000);
    assert.is(errCond(refused), 'forbidden', 'rejoin refused during the ban');
    assert.ok(Date.now() - bannedAt < BAN_SECONDS * 1000, 'the refusal was checked inside the ban window');
    // The room lifts the ban on time (the owner is told of the affiliation change), then the account is let in.
    await ctx.owner.waitFor(
      (s) =>
        s.is('message') &&
        s.getChild('x', USER)?.getChild('item')?.attrs.jid === 'troll@localhost' &&
        s.getChild('x', USER).getChild('item').attrs.affiliation === 'none',
      BAN_SECONDS * 1000 + 15000,
      'ban lifted',
    );
    const back = await tryJoin(troll, ROOM_JID, 'Troll', 15000);
    assert.is(back.attrs.type, undefined, 'rejoins after the ban ends');
    await troll.stop();
  },
);

t('with the list limited to moderators, a viewer sees "N viewers, M anonymous", updated on arrivals', async (ctx) => {
  await configure(ctx.owner, ROOM, {
    'muc#roomconfig_presencebroadcast': ['moderator'],
    'muc#roomconfig_x_livechat_viewer_counter': '1',
  });
  // Owner (account), Mod and Viewer (anonymous browsers).
  const counter = ctx.viewer.locator('#webchat-banners .webchat-counter');
  await counter.filter({ hasText: '3 viewers, 2 anonymous' }).waitFor({ state: 'visible', timeout: 15000 });
  const extra = await ctx.clients.viewer();
  await joinRoom(extra, ROOM, 'Extra');
  await counter.filter({ hasText: '4 viewers, 3 anonymous' }).waitFor({ state: 'visible', timeout: 15000 });
  // Moderators see the list itself, not the counter.
  assert.not.ok(await ctx.mod.locator('#webchat-banners .webchat-counter').isVisible(), 'no counter for the moderator');
  await ctx.viewer.screenshot({ path: `${ARTIFACTS}webchat-counter.png` });
  assert.equal(ctx.problems, [], 'no page errors and no CSP violations');
});

t.run();
