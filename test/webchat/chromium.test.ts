// The web chat page in real headless Chromium against a real server: a viewer picks a nickname, joins,
// talks with an @xmpp/client occupant and sees the reply; the OBS overlay (_readonly=true) shows messages
// without a composer; _transparent=true shows the video through. Saves test-artifacts/webchat-room.png.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchChromium, type Browser } from './browser.js';
import { startBackend, type ChatBackend } from './backend.js';
import { connectClient, xml, type TestClient, type Stanza } from '../helpers/xmpp-client.js';
import { acceptInstantRoom } from '../helpers/muc-join.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const SCREENSHOT = `${ARTIFACTS}webchat-room.png`;

interface Ctx {
  backend: ChatBackend;
  browser: Browser;
  bot: TestClient;
  room: string;
  roomJid: string;
}

const t = suite<Ctx>('webchat in Chromium');

/** Console lines and page errors that mean the page is broken or its CSP is wrong. */
function watch(page: Page): { problems: string[] } {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy/i.test(text)) problems.push(`csp: ${text}`);
    if (process.env.WEBCHAT_DEBUG) console.log(`[browser ${m.type()}] ${text}`);
  });
  return { problems };
}

async function joinAsOccupant(c: TestClient, roomJid: string, nick: string): Promise<void> {
  await c.send(
    xml(
      'presence',
      { to: `${roomJid}/${nick}` },
      xml('x', { xmlns: 'http://jabber.org/protocol/muc' }, xml('history', { maxstanzas: '0' })),
    ),
  );
  const self = await c.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${roomJid}/${nick}` && !s.attrs.type,
    8000,
    'own presence in the room',
  );
  await acceptInstantRoom(c, roomJid, self);
}

function groupchatFrom(roomJid: string, nick: string, body: string) {
  return (s: Stanza) =>
    s.is('message') &&
    s.attrs.type === 'groupchat' &&
    s.attrs.from === `${roomJid}/${nick}` &&
    s.getChildText('body') === body;
}

t.before(async (ctx) => {
  ctx.backend = await startBackend();
  console.log(
    `  backend: ${ctx.backend.kind === 'ours' ? 'our server (createServer)' : 'Prosody (WEBCHAT_BACKEND=prosody: checks the page, not this server)'}`,
  );
  ctx.room = `stream-${Date.now().toString(36)}`;
  ctx.roomJid = `${ctx.room}@${ctx.backend.mucHost}`;
  ctx.bot = await connectClient({ service: ctx.backend.wsUrl, domain: ctx.backend.anonHost });
  await joinAsOccupant(ctx.bot, ctx.roomJid, 'streamer-bot');
  ctx.browser = await launchChromium();
});

t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.bot?.stop();
  await ctx.backend?.stop();
});

t('a viewer picks a nickname, joins, chats with an XMPP occupant and sees the reply', async (ctx) => {
  const page = await ctx.browser.context.newPage();
  const { problems } = watch(page);
  const sent: string[] = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => void (typeof f.payload === 'string' && sent.push(f.payload))));
  const res = await page.goto(`${ctx.backend.httpUrl}/webchat/room/${ctx.room}`);
  assert.is(res?.status(), 200);

  // The nickname prompt: anonymous viewers choose how they appear.
  const nick = page.locator('converse-muc-nickname-form input[name="nick"]');
  await nick.waitFor({ state: 'visible', timeout: 20000 });
  await nick.fill('Alice');
  await page.locator('converse-muc-nickname-form input[type="submit"]').click();

  // Joined: the composer appears and the occupant sees Alice arrive.
  const composer = page.locator('converse-muc-message-form textarea.chat-textarea');
  await composer.waitFor({ state: 'visible', timeout: 15000 });
  await ctx.bot.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${ctx.roomJid}/Alice` && !s.attrs.type,
    8000,
    'Alice joining',
  );

  const hello = `Hello from the browser ${Date.now()}`;
  await composer.fill(hello);
  await composer.press('Enter');
  const got = await ctx.bot.waitFor(
    groupchatFrom(ctx.roomJid, 'Alice', hello),
    8000,
    "Alice's message at the occupant",
  );
  assert.is(got.getChildText('body'), hello);

  const reply = 'Welcome Alice! The stream starts in five minutes.';
  await ctx.bot.send(xml('message', { to: ctx.roomJid, type: 'groupchat' }, xml('body', {}, reply)));
  const shown = page.locator('.chat-msg__text', { hasText: reply });
  await shown.waitFor({ state: 'visible', timeout: 10000 });
  // The reply is attributed to the occupant, and our own message is on the page too.
  await page
    .locator('.chat-msg', { hasText: reply })
    .locator('.chat-msg__author', { hasText: 'streamer-bot' })
    .first()
    .waitFor({ timeout: 5000 });
  await page.locator('.chat-msg__text', { hasText: hello }).waitFor({ state: 'visible', timeout: 5000 });

  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: SCREENSHOT });
  console.log(`  screenshot: ${SCREENSHOT}`);

  assert.equal(problems, [], 'no page errors and no CSP violations');

  // Stream management as the page configures ConverseJS: enabled, and an ack request of its own after every 20
  // stanzas it sends rather than ConverseJS's default 5 (each one a frame the server reads in a join storm).
  const enabledAt = sent.findIndex((f) => f.startsWith('<enable '));
  if (ctx.backend.kind === 'ours') assert.ok(enabledAt >= 0, 'the page enabled stream management');
  const since = sent.slice(enabledAt + 1);
  const stanzas = since.filter((f) => /^<(iq|message|presence)[\s>/]/.test(f)).length;
  const requests = since.filter((f) => /^<r\s[^>]*urn:xmpp:sm:3/.test(f)).length;
  assert.ok(stanzas >= 10, `enough stanzas to tell 20 from 5: ${stanzas}`);
  assert.ok(
    requests <= Math.floor(stanzas / 20),
    `${requests} ack requests from the page for ${stanzas} stanzas sent: ${sent.join('\n').slice(0, 3000)}`,
  );
  await page.close();
});

t('when the WebSocket endpoint refuses the upgrade, the page chats over BOSH', async (ctx) => {
  const page = await ctx.browser.context.newPage();
  const { problems } = watch(page);
  const bosh: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && /http-bind/.test(r.url())) bosh.push(r.url());
  });
  await page.goto(`${ctx.backend.httpUrl}${ctx.backend.boshFallbackBase}/room/${ctx.room}`);
  const nick = page.locator('converse-muc-nickname-form input[name="nick"]');
  await nick.waitFor({ state: 'visible', timeout: 20000 });
  await nick.fill('Bea');
  await nick.press('Enter');
  const composer = page.locator('converse-muc-message-form textarea.chat-textarea');
  await composer.waitFor({ state: 'visible', timeout: 15000 });
  const text = `Over BOSH ${Date.now()}`;
  await composer.fill(text);
  await composer.press('Enter');
  await ctx.bot.waitFor(groupchatFrom(ctx.roomJid, 'Bea', text), 8000, "Bea's message over BOSH");
  assert.ok(bosh.length > 0, 'the page used BOSH requests');
  // The refused handshake itself is logged by Chromium; anything else would be a problem.
  assert.equal(problems, []);
  await page.close();
});

t('_readonly=true (OBS overlay) shows messages without composer or nickname prompt', async (ctx) => {
  const page = await ctx.browser.context.newPage();
  const { problems } = watch(page);
  await page.goto(`${ctx.backend.httpUrl}/webchat/room/${ctx.room}?_readonly=true`);
  // The overlay joins by itself under a generated name: the occupant sees a "Viewer ..." arrive.
  const viewer = await ctx.bot.waitFor(
    (s) => s.is('presence') && !s.attrs.type && (s.attrs.from ?? '').startsWith(`${ctx.roomJid}/Viewer `),
    20000,
    'the overlay joining',
  );
  assert.ok(viewer);
  const line = `Overlay line ${Date.now()}`;
  // Give converse a moment to finish entering before the message arrives.
  await page.locator('converse-muc-chatarea').waitFor({ state: 'attached', timeout: 10000 });
  await ctx.bot.send(xml('message', { to: ctx.roomJid, type: 'groupchat' }, xml('body', {}, line)));
  await page.locator('.chat-msg__text', { hasText: line }).waitFor({ state: 'visible', timeout: 10000 });

  assert.is(await page.locator('textarea.chat-textarea').filter({ visible: true }).count(), 0, 'no visible composer');
  assert.is(
    await page.locator('converse-muc-nickname-form').filter({ visible: true }).count(),
    0,
    'no nickname prompt',
  );
  assert.ok(await page.evaluate(() => document.body.classList.contains('webchat-readonly')));
  assert.equal(problems, []);
  await page.close();
});

t('_transparent=true makes the page background transparent', async (ctx) => {
  const page = await ctx.browser.context.newPage();
  const { problems } = watch(page);
  await page.goto(`${ctx.backend.httpUrl}/webchat/room/${ctx.room}?_readonly=true&_transparent=true`);
  await page.locator('.chat-content').first().waitFor({ state: 'attached', timeout: 20000 });
  // A string, not a function: tsx would wrap named inner functions in a helper the page does not have.
  const colors = await page.evaluate(`(() => {
    const bg = (sel) => { const e = document.querySelector(sel); return e ? getComputedStyle(e).backgroundColor : 'missing'; };
    return { body: bg('body'), root: bg('converse-root'), content: bg('.chat-content') };
  })()`);
  assert.equal(colors, { body: 'rgba(0, 0, 0, 0)', root: 'rgba(0, 0, 0, 0)', content: 'rgba(0, 0, 0, 0)' });
  assert.equal(problems, []);
  await page.close();
});

t('the standalone default room answers at /webchat/', async (ctx) => {
  const page = await ctx.browser.context.newPage();
  const res = await page.goto(`${ctx.backend.httpUrl}/webchat/`);
  assert.ok(page.url().endsWith('/webchat/room/demo'), page.url());
  assert.is(res?.status(), 200);
  await page.locator('converse-muc-nickname-form input[name="nick"]').waitFor({ state: 'visible', timeout: 20000 });
  await page.close();
});

t.run();
