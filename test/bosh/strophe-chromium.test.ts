// strophe.js (a BOSH client nobody here wrote) in real headless Chromium, loaded from a page on another origin, as
// an embed would: CORS preflights, anonymous login, one-to-one chat and a MUC room shared with a WebSocket user
// (@xmpp/client), and a clean disconnect that ends the session on the server.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer as createHttp, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const STROPHE_UMD = createRequire(import.meta.url)
  .resolve('strophe.js')
  .replace(/strophe\.cjs$/, 'strophe.umd.min.js');

// The page: strophe.js plus a few helpers the test calls through page.evaluate.
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>strophe BOSH</title>
<script src="/strophe.js"></script>
<script>
  window.inbox = [];
  window.preflightSeen = false;
  window.connectBosh = (url, domain) => new Promise((resolve, reject) => {
    const { Strophe } = window;
    const conn = new Strophe.Connection(url);
    window.conn = conn;
    conn.addHandler((s) => { window.inbox.push(Strophe.serialize(s)); return true; }, null, 'message');
    conn.addHandler((s) => { window.inbox.push(Strophe.serialize(s)); return true; }, null, 'presence');
    conn.connect(domain, null, (status, condition) => {
      if (status === Strophe.Status.CONNECTED) resolve(conn.jid);
      else if (status === Strophe.Status.CONNFAIL || status === Strophe.Status.AUTHFAIL || status === Strophe.Status.ERROR) reject(new Error('strophe status ' + status + ' ' + condition));
    });
  });
  window.sendXml = (text) => {
    const el = new DOMParser().parseFromString(text, 'text/xml').documentElement;
    window.conn.send(el);
  };
  window.waitInbox = (needle, ms) => new Promise((resolve, reject) => {
    const end = Date.now() + ms;
    const tick = () => {
      const hit = window.inbox.find((s) => s.includes(needle));
      if (hit) return resolve(hit);
      if (Date.now() > end) return reject(new Error('not received: ' + needle));
      setTimeout(tick, 25);
    };
    tick();
  });
  window.disconnectBosh = () => new Promise((resolve) => {
    const { Strophe } = window;
    window.conn.connect_callback = (status) => { if (status === Strophe.Status.DISCONNECTED) resolve(true); };
    window.conn.disconnect('bye');
  });
</script></head><body>strophe.js BOSH test page</body></html>`;

interface Ctx {
  srv: TestServer;
  boshUrl: string;
  pageServer: Server;
  pageUrl: string;
  browser: Browser;
  ws: TestClient[];
  preflights: number;
}

const t = suite<Ctx>('strophe.js over BOSH in Chromium');

t.before(async (ctx) => {
  ctx.ws = [];
  ctx.preflights = 0;
  // Short wait and inactivity so that a vanished browser tab is noticed within seconds (strophe adopts 'wait').
  ctx.srv = await startTestServer({ bosh: { maxWait: 3, inactivity: 2 } });
  ctx.boshUrl = `${ctx.srv.httpUrl}/http-bind`;
  // Count CORS preflights reaching the BOSH endpoint (the embed's browser sends them before each POST).
  const { server } = ctx.srv;
  const original = server.handleRequest.bind(server);
  server.handleRequest = (req, res) => {
    if (req.method === 'OPTIONS') ctx.preflights++;
    return original(req, res);
  };
  const strophe = await readFile(STROPHE_UMD);
  ctx.pageServer = createHttp((req, res) => {
    if (req.url === '/strophe.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(strophe);
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    }
  });
  await new Promise<void>((r) => ctx.pageServer.listen(0, '127.0.0.1', () => r()));
  // Another port is another origin: the BOSH requests are cross-origin, as from a PeerTube embed.
  ctx.pageUrl = `http://127.0.0.1:${(ctx.pageServer.address() as { port: number }).port}/`;
  ctx.browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30000,
  });
});

t.after(async (ctx) => {
  await ctx.browser?.close().catch(() => undefined);
  await Promise.all(ctx.ws.map((c) => c.stop()));
  if (ctx.pageServer) {
    ctx.pageServer.closeAllConnections();
    await new Promise((r) => ctx.pageServer.close(r));
  }
  await ctx.srv?.stop();
});

async function boshPage(ctx: Ctx): Promise<{ page: Page; jid: string }> {
  const page = await ctx.browser.newPage();
  page.on('pageerror', (e) => console.error(`  [page error] ${e.message}`));
  await page.goto(ctx.pageUrl);
  const jid = await page.evaluate(([url]) => (window as any).connectBosh(url, 'anon.localhost'), [ctx.boshUrl]);
  return { page, jid: String(jid) };
}

async function wsUser(ctx: Ctx): Promise<TestClient> {
  const c = await connectClient({ service: ctx.srv.wsUrl, domain: 'anon.localhost' });
  ctx.ws.push(c);
  return c;
}

const inbox = (page: Page, needle: string, ms = 8000) =>
  page.evaluate(([n, m]) => (window as any).waitInbox(n, m), [needle, ms] as const) as Promise<string>;
const send = (page: Page, text: string) => page.evaluate((x) => (window as any).sendXml(x), text);
/** Disconnects strophe cleanly (type='terminate'), then closes the tab. */
async function leave(page: Page): Promise<void> {
  await page.evaluate(() => (window as any).disconnectBosh());
  await page.close();
}
/** True when a chat message to `jid` bounces: nobody is bound there any more. */
async function bounces(w: TestClient, jid: string, id: string): Promise<boolean> {
  await w.send(xml('message', { to: jid, type: 'chat', id }, xml('body', {}, 'still there?')));
  const r = await w.waitFor((s) => s.is('message') && s.attrs.id === id, 5000).catch(() => null);
  return !!r && r.attrs.type === 'error';
}

t('strophe.js logs in anonymously over cross-origin BOSH', async (ctx) => {
  const { page, jid } = await boshPage(ctx);
  assert.match(jid, /^[a-z0-9]+@anon\.localhost\/[0-9a-f]+$/);
  assert.ok(ctx.preflights > 0, 'the browser sent CORS preflights and they passed');
  await leave(page);
});

t('a BOSH user and a WebSocket user chat one-to-one', async (ctx) => {
  const { page, jid } = await boshPage(ctx);
  const w = await wsUser(ctx);
  await send(
    page,
    `<message xmlns="jabber:client" to="${w.jid}" type="chat" id="s1"><body>hi from strophe</body></message>`,
  );
  const got = await w.waitFor((s) => s.is('message') && s.getChildText('body') === 'hi from strophe');
  assert.is(got.attrs.from, jid);
  await w.send(xml('message', { to: jid, type: 'chat', id: 'w1' }, xml('body', {}, 'hi from websocket')));
  const seen = await inbox(page, 'hi from websocket');
  assert.match(seen, new RegExp(`from="${w.jid.replace(/[/.]/g, '\\$&')}"`));
  await leave(page);
});

t('a BOSH user and a WebSocket user in the same MUC room see each other', async (ctx) => {
  const room = `bosh-${Date.now().toString(36)}@${ctx.srv.server.config.mucHost}`;
  const w = await wsUser(ctx);
  await w.send(
    xml('presence', { to: `${room}/websocket-user` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
  );
  await w.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${room}/websocket-user` && !s.attrs.type,
    8000,
    'own room presence',
  );

  const { page } = await boshPage(ctx);
  await send(
    page,
    `<presence xmlns="jabber:client" to="${room}/bosh-user"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
  );
  // The BOSH user sees the WebSocket user already there, then its own presence (status 110).
  await inbox(page, `from="${room}/websocket-user"`);
  await inbox(page, 'code="110"');
  await w.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/bosh-user`, 8000, 'the BOSH user joining');

  await send(
    page,
    `<message xmlns="jabber:client" to="${room}" type="groupchat" id="g1"><body>hello room from BOSH</body></message>`,
  );
  const fromBosh = await w.waitFor(
    (s) => s.is('message') && s.attrs.type === 'groupchat' && s.getChildText('body') === 'hello room from BOSH',
    8000,
  );
  assert.is(fromBosh.attrs.from, `${room}/bosh-user`);

  await w.send(xml('message', { to: room, type: 'groupchat', id: 'g2' }, xml('body', {}, 'hello room from WebSocket')));
  const fromWs = await inbox(page, 'hello room from WebSocket');
  assert.match(fromWs, new RegExp(`from="${room.replace(/[.]/g, '\\.')}/websocket-user"`));
  await leave(page);
});

t('disconnecting ends the session on the server and the WebSocket user sees the BOSH user leave', async (ctx) => {
  const room = `bye-${Date.now().toString(36)}@${ctx.srv.server.config.mucHost}`;
  const w = await wsUser(ctx);
  await w.send(xml('presence', { to: `${room}/ws` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
  await w.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/ws` && !s.attrs.type, 8000);
  const { page, jid } = await boshPage(ctx);
  await send(
    page,
    `<presence xmlns="jabber:client" to="${room}/leaver"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
  );
  await w.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/leaver` && !s.attrs.type, 8000);
  const done = await page.evaluate(() => (window as any).disconnectBosh());
  assert.ok(done);
  await w.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${room}/leaver` && s.attrs.type === 'unavailable',
    8000,
    'unavailable from the leaver',
  );
  assert.ok(await bounces(w, jid, 'left1'), 'the session is gone from the server');
  await page.close();
});

t('a browser tab that vanishes without terminating is cleaned up after wait + inactivity', async (ctx) => {
  const room = `stale-${Date.now().toString(36)}@${ctx.srv.server.config.mucHost}`;
  const w = await wsUser(ctx);
  await w.send(xml('presence', { to: `${room}/ws` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
  await w.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/ws` && !s.attrs.type, 8000);
  const { page, jid } = await boshPage(ctx);
  await send(
    page,
    `<presence xmlns="jabber:client" to="${room}/vanishing"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
  );
  await w.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/vanishing` && !s.attrs.type, 8000);
  const t0 = Date.now();
  await page.close(); // no terminate request: the requests just stop
  await w.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${room}/vanishing` && s.attrs.type === 'unavailable',
    10000,
    'the stale occupant leaving',
  );
  const took = Date.now() - t0;
  assert.ok(took >= 1500, `not before the inactivity period (${took} ms)`);
  assert.ok(await bounces(w, jid, 'stale1'), 'the session is gone from the server');
});

if (!existsSync(CHROMIUM))
  console.error(`no Chromium at ${CHROMIUM}: install the Debian package "chromium" (or set CHROMIUM_PATH)`);
t.run();
