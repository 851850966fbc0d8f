// Visible occupants seen through ConverseJS (the web chat page in headless Chromium): in a room above the threshold
// the page's occupant list shows the owner and members but no quiet viewer; a quiet viewer's first message arrives
// with its author already present in the list (not the offline placeholder ConverseJS makes for unknown authors),
// and after the speaker timeout it leaves the list again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createWebchatHandler } from '../../src/webchat/handler.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchChromium, type Browser } from '../webchat/browser.js';
import { Clients, HOST, joinRoom, say, setAffiliation } from '../moderation/room-client.js';

let srv: TestServer;
let browser: Browser | undefined;
const clients = new Clients(() => srv);

test.before(async () => {
  srv = await startTestServer({ testMode: true, muc: { visibleOccupants: { threshold: 2, speakerTimeout: 4 } } });
  const { anonymousHost, mucHost, http } = srv.server.config;
  if (!anonymousHost) throw new Error('the test server has no anonymousHost');
  const handler = createWebchatHandler({
    basePath: '/webchat',
    websocketUrl: http.websocketPath,
    boshUrl: http.boshPath,
    anonymousHost,
    mucHost,
    defaultRoom: 'demo',
    clientLogLevel: 'warn',
  });
  srv.server.addHttpHandler(handler);
  await handler.ready;
  browser = await launchChromium();
});
test.after(async () => {
  await browser?.close();
  await clients.stopAll();
  await srv?.stop();
});

test('ConverseJS lists only visible occupants, adds a quiet viewer before its first message and drops it after silence', async () => {
  const room = 'show';
  const owner = await clients.user('owner');
  await joinRoom(owner, room, 'Owner');
  await setAffiliation(owner, room, 'alice@localhost', 'member');
  const alice = await clients.user('alice');
  await joinRoom(alice, room, 'Alice');
  const quiet = await clients.viewer();
  await joinRoom(quiet, room, 'Quiet');
  const talker = await clients.viewer();
  await joinRoom(talker, room, 'Talker');

  const page = await browser!.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${srv.httpUrl}/webchat/room/${room}`);
  const nick = page.locator('converse-muc-nickname-form input[name="nick"]');
  await nick.waitFor({ state: 'visible', timeout: 30000 });
  await nick.fill('Browser');
  await page.locator('converse-muc-nickname-form input[type="submit"]').click();
  await page.locator('converse-muc-message-form textarea.chat-textarea').waitFor({ state: 'visible', timeout: 20000 });
  await owner.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${room}@${HOST}/Browser` && !s.attrs.type,
    10000,
    'the page joined',
  );

  const listed = (name: string) =>
    page.locator('converse-muc-occupant-list-item .occupant-nick', { hasText: new RegExp(`^\\s*${name}\\s*$`) });
  await listed('Owner').waitFor({ state: 'attached', timeout: 15000 });
  await listed('Alice').waitFor({ state: 'attached', timeout: 5000 });
  assert.is(await listed('Quiet').count(), 0, 'a quiet viewer is not listed');
  assert.is(await listed('Talker').count(), 0, 'not yet');

  await say(talker, room, 'first words from the audience');
  await page
    .locator('.chat-msg', { hasText: 'first words from the audience' })
    .locator('.chat-msg__author', { hasText: 'Talker' })
    .first()
    .waitFor({ timeout: 15000 });
  await listed('Talker').waitFor({ state: 'attached', timeout: 5000 });
  // ConverseJS adds an unknown message author as an *offline* occupant; announced first, it is online.
  const status = page
    .locator('converse-muc-occupant-list-item', { has: page.locator('.occupant-nick', { hasText: /^\s*Talker\s*$/ }) })
    .locator('converse-icon.chat-status--avatar');
  assert.is(await status.first().getAttribute('color'), 'var(--chat-status-online)', 'the author is listed as present');
  assert.is(await listed('Quiet').count(), 0, 'the silent one stays out of the list');
  // speakerTimeout is 4 s: the page drops it from the list.
  await listed('Talker').waitFor({ state: 'detached', timeout: 20000 });
  assert.ok((await listed('Owner').count()) > 0, 'the owner stays');
  assert.equal(errors, [], 'no page errors');
  await page.close();
});

test.run();
