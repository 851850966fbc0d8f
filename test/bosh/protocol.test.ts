// BOSH on the wire (XEP-0124/0206), driven with exact request bodies: session creation values, rid ordering and
// retransmission, hold/wait, terminal binding conditions for bad requests, CORS, and that a BOSH session is an
// ordinary c2s session that WebSocket users can talk to.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { RawBosh, post, payloads, HTTPBIND } from './raw.js';

interface Ctx {
  srv: TestServer;
  url: string;
  ws: TestClient[];
}
const t = suite<Ctx>('BOSH protocol');

t.before(async (ctx) => {
  ctx.srv = await startTestServer({ bosh: { maxWait: 20 } });
  ctx.url = `${ctx.srv.httpUrl}/http-bind`;
  ctx.ws = [];
});
t.after(async (ctx) => {
  await Promise.all(ctx.ws.map((c) => c.stop()));
  await ctx.srv.stop();
});

const wsUser = async (ctx: Ctx) => {
  const c = await connectClient({ service: ctx.srv.wsUrl, domain: 'anon.localhost' });
  ctx.ws.push(c);
  return c;
};
const msg = (to: string, body: string, id = body) =>
  `<message xmlns='jabber:client' to='${to}' type='chat' id='${id}'><body>${body}</body></message>`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t('the session creation response carries the negotiated values and the first stream features', async (ctx) => {
  const b = new RawBosh(ctx.url);
  const r = await b.create({ wait: 300, hold: 3, ver: '1.6' });
  assert.is(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/xml; charset=utf-8/);
  const a = r.body.attrs;
  assert.is(r.body.name, 'body');
  assert.is(a.xmlns, HTTPBIND);
  assert.ok(a.sid && a.sid.length >= 20, 'an unpredictable sid');
  assert.is(a.wait, '20', 'wait lowered to the configured maximum');
  assert.is(a.hold, '1', 'hold lowered to the configured maximum');
  assert.is(a.requests, '2');
  assert.is(a.ver, '1.6', 'the lower of the two versions');
  assert.ok(Number(a.inactivity) > 0 && Number(a.polling) >= 0);
  assert.is(a.from, 'anon.localhost');
  assert.ok(a.authid, 'authid is the stream id');
  assert.is(a['xmpp:version'], '1.0');
  assert.is(a['xmlns:xmpp'], 'urn:xmpp:xbosh');
  const mechs = r.body
    .getChild('features')
    ?.getChild('mechanisms')
    ?.getChildren('mechanism')
    .map((m) => m.text());
  assert.equal(mechs, ['ANONYMOUS']);
});

t('anonymous login over raw BOSH: SASL, xmpp:restart, bind', async (ctx) => {
  const b = new RawBosh(ctx.url);
  const jid = await b.login();
  assert.match(jid, /^[a-z0-9]+@anon\.localhost\/[0-9a-f]+$/);
});

t('a held request returns empty after wait seconds', async (ctx) => {
  const b = new RawBosh(ctx.url);
  await b.login({ wait: 1 });
  const t0 = Date.now();
  const r = await b.send();
  const took = Date.now() - t0;
  assert.is(payloads(r).length, 0);
  assert.is(r.body.attrs.type, undefined);
  assert.ok(took >= 900 && took < 4000, `answered after ${took} ms`);
});

t('a new request releases the held one at once (hold=1)', async (ctx) => {
  const b = new RawBosh(ctx.url);
  await b.login({ wait: 20 });
  const t0 = Date.now();
  const first = b.send();
  await sleep(100);
  const second = b.send();
  await first;
  assert.ok(Date.now() - t0 < 3000, 'the first request did not wait 20 s');
  // Release the second one too, by terminating.
  await b.send('', { type: 'terminate' });
  await second;
});

t('a WebSocket user and a BOSH user exchange chat messages', async (ctx) => {
  const b = new RawBosh(ctx.url);
  const bjid = await b.login({ wait: 10 });
  const w = await wsUser(ctx);
  const poll = b.send();
  await w.send(xml('message', { to: bjid, type: 'chat', id: 'w1' }, xml('body', {}, 'hello from ws')));
  const r = await poll;
  const m = payloads(r).find((p) => p.name === 'message');
  assert.ok(m, `expected a message, got ${r.text}`);
  assert.is(m!.attrs.from, w.jid);
  assert.is(m!.getChildText('body'), 'hello from ws');
  await b.send(msg(w.jid, 'hello from bosh'));
  const got = await w.waitFor((s) => s.is('message') && s.getChildText('body') === 'hello from bosh');
  assert.is(got.attrs.from, bjid);
});

t('a repeated rid gets the same response again, and its payloads are not sent twice', async (ctx) => {
  const b = new RawBosh(ctx.url);
  await b.login({ wait: 2 });
  const w = await wsUser(ctx);
  const text = b.body(
    msg(w.jid, 'once') +
      `<iq xmlns='jabber:client' type='get' id='ping1' to='anon.localhost'><ping xmlns='urn:xmpp:ping'/></iq>`,
  );
  const first = await post(b.url, text);
  assert.ok(
    payloads(first).some((p) => p.name === 'iq' && p.attrs.id === 'ping1'),
    first.text,
  );
  const again = await post(b.url, text);
  assert.is(again.text, first.text, 'byte-identical retransmission');
  await w.waitFor((s) => s.is('message') && s.getChildText('body') === 'once');
  await sleep(300);
  assert.is(w.received.filter((s) => s.is('message') && s.getChildText('body') === 'once').length, 1);
});

t('requests that arrive out of order are handled in rid order', async (ctx) => {
  const b = new RawBosh(ctx.url);
  await b.login({ wait: 2 });
  const w = await wsUser(ctx);
  const r1 = b.rid + 1;
  const second = post(b.url, b.body(msg(w.jid, 'two'), {}, r1 + 1));
  await sleep(150);
  const first = post(b.url, b.body(msg(w.jid, 'one'), {}, r1));
  b.rid = r1 + 1;
  await Promise.all([first, second]);
  await w.waitFor((s) => s.is('message') && s.getChildText('body') === 'two');
  const bodies = w.received.filter((s) => s.is('message')).map((s) => s.getChildText('body'));
  assert.equal(bodies, ['one', 'two']);
});

t('a rid beyond the window ends the session with item-not-found', async (ctx) => {
  const b = new RawBosh(ctx.url);
  const jid = await b.login({ wait: 2 });
  const r = await post(b.url, b.body('', {}, b.rid + 10));
  assert.is(r.status, 200);
  assert.is(r.body.attrs.type, 'terminate');
  assert.is(r.body.attrs.condition, 'item-not-found');
  const after = await b.send();
  assert.is(after.body.attrs.condition, 'item-not-found', 'the sid is no longer valid');
  const w = await wsUser(ctx);
  await w.send(xml('message', { to: jid, type: 'chat', id: 'gone1' }, xml('body', {}, 'anyone?')));
  const err = await w.waitFor((s) => s.is('message') && s.attrs.id === 'gone1' && s.attrs.type === 'error');
  assert.ok(err.getChild('error')?.getChild('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
});

t('an old rid whose response is no longer kept gets item-not-found', async (ctx) => {
  const b = new RawBosh(ctx.url);
  await b.login({ wait: 1 });
  const old = b.rid - 3; // the creation request; only the last two responses are kept
  const r = await post(b.url, b.body('', {}, old));
  assert.is(r.body.attrs.type, 'terminate');
  assert.is(r.body.attrs.condition, 'item-not-found');
});

t('while a request is held, the response before it can be asked for again, not the one before that', async (ctx) => {
  // With two requests open at most, a client that sent rid N has the response to N - 2: it is not kept for a repeat
  // (a storm's batches of vCards, kept longer, doubled the server's heap).
  const b = new RawBosh(ctx.url);
  const jid = await b.login({ wait: 2 });
  const bindRid = b.rid;
  const held = b.send(); // bindRid + 1, held
  await sleep(100);
  const again = await post(b.url, b.body('', {}, bindRid));
  assert.is(again.body.getChild('iq')?.getChild('bind')?.getChildText('jid'), jid, 'the bind result, sent again');
  const older = await post(b.url, b.body('', {}, bindRid - 1));
  assert.is(older.body.attrs.type, 'terminate');
  assert.is(older.body.attrs.condition, 'item-not-found');
  assert.is((await held).body.attrs.type, 'terminate', 'the session is over');
});

t('an unknown sid gets item-not-found', async (ctx) => {
  const r = await post(ctx.url, `<body rid='5' sid='no-such-session' xmlns='${HTTPBIND}'/>`);
  assert.is(r.status, 200);
  assert.is(r.body.attrs.type, 'terminate');
  assert.is(r.body.attrs.condition, 'item-not-found');
});

t('malformed XML, restricted XML and a wrong wrapper get bad-request and end the session', async (ctx) => {
  const cases = [
    (sid: string) =>
      `<body rid='1' sid='${sid}' xmlns='${HTTPBIND}'><message xmlns='jabber:client'><body>unclosed</message></body>`,
    (sid: string) => `<body rid='1' sid='${sid}' xmlns='${HTTPBIND}'><!-- a comment --></body>`,
    (sid: string) =>
      `<?xml version='1.0'?><!DOCTYPE body [<!ENTITY x 'y'>]><body rid='1' sid='${sid}' xmlns='${HTTPBIND}'/>`,
    (sid: string) => `<body rid='1' sid='${sid}' xmlns='${HTTPBIND}'><?pi data?></body>`,
    (sid: string) => `<bodyx rid='1' sid='${sid}' xmlns='${HTTPBIND}'/>`,
    (sid: string) => `<body rid='1' sid='${sid}' xmlns='urn:wrong'/>`,
    (sid: string) => `<body rid='1' sid='${sid}' xmlns='${HTTPBIND}'/><body rid='2' sid='${sid}' xmlns='${HTTPBIND}'/>`,
    (sid: string) => `<body rid='not-a-number' sid='${sid}' xmlns='${HTTPBIND}'/>`,
    // A no-break space is not XML whitespace: an empty poll's wrapper must be well-formed too.
    (sid: string) => `<body\u00a0rid='1' sid='${sid}' xmlns='${HTTPBIND}'/>`,
    (sid: string) => `<body rid='1' sid='${sid}' sid='${sid}' xmlns='${HTTPBIND}'/>`,
  ];
  for (const make of cases) {
    const b = new RawBosh(ctx.url);
    await b.login({ wait: 1 });
    const text = make(b.sid);
    const r = await post(ctx.url, text);
    assert.is(r.status, 200, text);
    assert.is(r.body.attrs.type, 'terminate', text);
    assert.is(r.body.attrs.condition, 'bad-request', text);
    const after = await b.send();
    assert.is(after.body.attrs.condition, 'item-not-found', `session ended after: ${text}`);
  }
  const noSession = await post(ctx.url, 'this is not xml');
  assert.is(noSession.body.attrs.condition, 'bad-request');
});

t('an oversized body gets policy-violation and ends the session', async (ctx) => {
  const b = new RawBosh(ctx.url);
  await b.login({ wait: 1 });
  const big = 'x'.repeat(300 * 1024); // limits.maxStanzaSize is 256 KiB by default
  const r = await post(ctx.url, b.body(msg('someone@anon.localhost', big)));
  assert.is(r.body.attrs.type, 'terminate');
  assert.is(r.body.attrs.condition, 'policy-violation');
  const after = await b.send();
  assert.is(after.body.attrs.condition, 'item-not-found');
});

t('session creation errors: no "to", an unknown host', async (ctx) => {
  const noTo = await post(ctx.url, `<body rid='10' wait='5' hold='1' ver='1.6' xmlns='${HTTPBIND}'/>`);
  assert.is(noTo.body.attrs.condition, 'improper-addressing');
  const b = new RawBosh(ctx.url);
  const unknown = await b.create({ to: 'elsewhere.example' });
  assert.is(unknown.body.attrs.type, 'terminate');
  assert.is(unknown.body.attrs.condition, 'host-unknown');
});

t('a client without "ver" gets the legacy HTTP status codes (XEP-0124 §17.1)', async (ctx) => {
  const b = new RawBosh(ctx.url);
  await b.create({ ver: undefined, wait: 1 });
  const r = await post(b.url, b.body('', {}, b.rid + 10));
  assert.is(r.status, 404);
  assert.is(r.body.attrs.condition, 'item-not-found');
});

t('a polling session (hold=0) that polls faster than "polling" gets policy-violation', async (ctx) => {
  const b = new RawBosh(ctx.url);
  const c = await b.create({ hold: 0 });
  assert.is(c.body.attrs.hold, '0');
  await b.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>`);
  // Poll until nothing is left to fetch (SASL success may come a moment later); polls that fetch data are fine.
  let r = await b.send();
  for (let i = 0; i < 5 && payloads(r).length > 0; i++) r = await b.send();
  assert.is(r.body.attrs.type, undefined, 'polling within the rules is fine');
  assert.is(payloads(r).length, 0);
  const tooSoon = await b.send();
  assert.is(tooSoon.body.attrs.condition, 'policy-violation');
});

t("acknowledgements: ack='1' at creation is answered with the creation rid", async (ctx) => {
  const b = new RawBosh(ctx.url);
  const r = await b.create({ ack: 1 });
  assert.is(r.body.attrs.ack, String(b.rid));
});

t('type="terminate" delivers its payloads, ends the session and tells the client', async (ctx) => {
  const b = new RawBosh(ctx.url);
  const jid = await b.login({ wait: 5 });
  const w = await wsUser(ctx);
  const r = await b.send(msg(w.jid, 'bye'), { type: 'terminate' });
  assert.is(r.body.attrs.type, 'terminate');
  assert.is(r.body.attrs.condition, undefined);
  await w.waitFor((s) => s.is('message') && s.getChildText('body') === 'bye');
  await w.send(xml('message', { to: jid, type: 'chat', id: 'after-bye' }, xml('body', {}, 'gone?')));
  const err = await w.waitFor((s) => s.is('message') && s.attrs.id === 'after-bye');
  assert.is(err.attrs.type, 'error', 'the BOSH user is no longer bound');
});

t('CORS preflight, GET page, other methods', async (ctx) => {
  const pre = await fetch(ctx.url, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://peertube.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  });
  assert.ok(pre.status === 200 || pre.status === 204);
  assert.is(pre.headers.get('access-control-allow-origin'), '*');
  assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
  assert.match(pre.headers.get('access-control-allow-headers') ?? '', /content-type/i);
  const b = new RawBosh(ctx.url);
  const r = await b.create();
  assert.is(r.headers.get('access-control-allow-origin'), '*', 'POST responses carry CORS too');
  const page = await fetch(ctx.url);
  assert.is(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await page.text(), /BOSH/);
  const put = await fetch(ctx.url, { method: 'PUT', body: 'x' });
  assert.is(put.status, 405);
  // Every kind of response carries the CORS headers: the page, a refused method, a refusal outside any session, a
  // session's answers, and a refusal that ends a session (too large a body: Connection: close as well).
  const unknown = await post(ctx.url, `<body rid='7' sid='no-such-session' xmlns='${HTTPBIND}'/>`);
  assert.is(unknown.body.attrs.condition, 'item-not-found');
  await b.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>`);
  const answer = await b.send('', { to: 'anon.localhost', 'xmpp:restart': 'true', 'xmlns:xmpp': 'urn:xmpp:xbosh' });
  assert.ok(answer.body.getChild('features'), 'the restart is answered with features');
  const big = await post(
    ctx.url,
    b.body(`<message xmlns='jabber:client'><body>${'x'.repeat(1_000_000)}</body></message>`),
  );
  assert.is(big.body.attrs.type, 'terminate');
  for (const [what, h] of [
    ['page', page.headers],
    ['405', put.headers],
    ['unknown sid', unknown.headers],
    ['session answer', answer.headers],
    ['too large', big.headers],
  ] as const)
    assert.is(h.get('access-control-allow-origin'), '*', `${what} carries CORS`);
  assert.is(big.headers.get('connection'), 'close');
});

t('createServer exposes handleBosh for a host server mounting BOSH on its own path', async (ctx) => {
  const { createServer: createHttp } = await import('node:http');
  const host = createHttp((req, res) => {
    if (req.url?.startsWith('/plugins/livechat/http-bind') && ctx.srv.server.handleBosh(req, res)) return;
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => host.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (host.address() as { port: number }).port;
    const b = new RawBosh(`http://127.0.0.1:${port}/plugins/livechat/http-bind`);
    const jid = await b.login();
    assert.match(jid, /@anon\.localhost\//);
    await b.send('', { type: 'terminate' });
  } finally {
    host.closeAllConnections();
    await new Promise((r) => host.close(r));
  }
});

t.run();
