// The web chat page in headless Chromium shows occupants' avatars from their presence hashes, fetched over HTTP
// from /avatars/<hash>.png, and sends no vCard request per occupant. Occupants are @xmpp/client viewers that
// joined before the browser.
// Saves test-artifacts/webchat-avatars.png.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { launchChromium, type Browser } from '../webchat/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type Stanza, type TestClient } from '../helpers/xmpp-client.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const MUC = 'http://jabber.org/protocol/muc';
const NICKS = ['Ada', 'Brian', 'Chloe', 'Dmitri'];

interface Ctx {
  srv: TestServer;
  browser: Browser;
  occupants: TestClient[];
  hashes: Map<string, string>;
}
const t = suite<Ctx>('avatars on the web chat page');

t.before(async (ctx) => {
  ctx.srv = await startTestServer({ avatars: { set: 'birds' } });
  ctx.occupants = [];
  ctx.hashes = new Map();
  for (const nick of NICKS) {
    const c = await connectClient({ service: ctx.srv.wsUrl, domain: 'anon.localhost' });
    ctx.occupants.push(c);
    await c.send(xml('presence', { to: `gallery@room.localhost/${nick}` }, xml('x', { xmlns: MUC })));
    const self = await c.waitFor(
      (s) => s.is('presence') && s.attrs.from === `gallery@room.localhost/${nick}` && !s.attrs.type,
      20_000,
      `${nick} joined`,
    );
    const codes =
      self
        .getChild('x', `${MUC}#user`)
        ?.getChildren('status')
        .map((st: Stanza) => st.attrs.code) ?? [];
    if (codes.includes('201')) {
      await c.iq(
        xml(
          'iq',
          { type: 'set', to: 'gallery@room.localhost' },
          xml('query', { xmlns: `${MUC}#owner` }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' })),
        ),
        20_000,
      );
    }
    ctx.hashes.set(nick, self.getChild('x', 'vcard-temp:x:update')!.getChildText('photo')!);
  }
  ctx.browser = await launchChromium();
});

t.after(async (ctx) => {
  await ctx.browser?.close();
  for (const c of ctx.occupants ?? []) await c.stop();
  await ctx.srv?.stop();
});

t('occupant avatars appear, loaded by URL, with no vCard iq per occupant', async (ctx) => {
  const page = await ctx.browser.context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) problems.push(m.text());
  });
  const vcardIqs: string[] = [];
  page.on('websocket', (ws) =>
    ws.on('framesent', (f) => {
      const text = typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8');
      if (text.includes('vcard-temp') && text.includes('<iq')) vcardIqs.push(text);
    }),
  );
  const avatarRequests: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/avatars/')) avatarRequests.push(r.url());
  });

  await page.goto(`${ctx.srv.httpUrl}/webchat/room/gallery`);
  const nick = page.locator('converse-muc-nickname-form input[name="nick"]');
  await nick.waitFor({ state: 'visible', timeout: 30_000 });
  await nick.fill('Viewer');
  await nick.press('Enter');
  await page.locator('converse-muc-message-form textarea.chat-textarea').waitFor({ state: 'visible', timeout: 30_000 });
  await ctx.occupants[0].waitFor(
    (s) => s.is('presence') && s.attrs.from === 'gallery@room.localhost/Viewer' && !s.attrs.type,
    20_000,
    'the viewer joining',
  );

  // Every occupant's avatar in the occupant list becomes an image whose bytes hash to
  // the hash in its presence.
  const shown = async (): Promise<Map<string, string>> =>
    new Map(
      await page.evaluate(() => {
        const out: Array<[string, string]> = [];
        for (const a of Array.from(document.querySelectorAll('converse-avatar'))) {
          const href = a.querySelector('image')?.getAttribute('href') ?? '';
          const name = a.getAttribute('aria-label') ?? (a as unknown as { name?: string }).name ?? '';
          if (href.startsWith('data:image/png;base64,')) out.push([name, href.slice('data:image/png;base64,'.length)]);
        }
        return out;
      }),
    );
  const deadline = Date.now() + 30_000;
  let seen = new Map<string, string>();
  const hashes = (m: Map<string, string>) =>
    new Set([...m.values()].map((b64) => createHash('sha1').update(Buffer.from(b64, 'base64')).digest('hex')));
  while (Date.now() < deadline) {
    seen = await shown();
    const got = hashes(seen);
    if (NICKS.every((n) => got.has(ctx.hashes.get(n)!))) break;
    await page.waitForTimeout(250);
  }
  const got = hashes(seen);
  for (const n of NICKS)
    assert.ok(got.has(ctx.hashes.get(n)!), `${n}'s avatar is on the page (seen ${got.size} avatar images)`);

  // A newcomer after the page joined: its avatar appears the same way.
  const late = await connectClient({ service: ctx.srv.wsUrl, domain: 'anon.localhost' });
  ctx.occupants.push(late);
  await late.send(xml('presence', { to: 'gallery@room.localhost/Eve' }, xml('x', { xmlns: MUC })));
  const eve = await late.waitFor(
    (st) => st.is('presence') && st.attrs.from === 'gallery@room.localhost/Eve' && !st.attrs.type,
    20_000,
    'Eve joined',
  );
  const eveHash = eve.getChild('x', 'vcard-temp:x:update')!.getChildText('photo')!;
  ctx.hashes.set('Eve', eveHash);
  const lateDeadline = Date.now() + 30_000;
  while (Date.now() < lateDeadline && !hashes(await shown()).has(eveHash)) await page.waitForTimeout(250);
  assert.ok(hashes(await shown()).has(eveHash), "the newcomer's avatar is on the page");

  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}webchat-avatars.png` });

  const perOccupant = vcardIqs.filter((x) => /to=["']gallery@room\.localhost\//.test(x));
  assert.equal(perOccupant, [], 'no vCard iq to room/nick');
  assert.ok(
    vcardIqs.length <= 2,
    `at most the room's vCard (and nothing per occupant): ${vcardIqs.length} vCard iqs\n${vcardIqs.join('\n')}`,
  );
  for (const n of [...NICKS, 'Eve'])
    assert.ok(
      avatarRequests.some((u) => u.endsWith(`/avatars/${ctx.hashes.get(n)}.png`)),
      `${n}'s avatar fetched by URL`,
    );
  assert.equal(problems, [], 'no page errors and no CSP violations');
  await page.close();
});

t.run();
