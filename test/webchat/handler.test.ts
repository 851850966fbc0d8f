// The web chat HTTP routes as a browser or proxy sees them: caching headers, compression, 304s, CSP,
// query options, and requests that must not reach the file system.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createWebchatHandler, type WebchatHandler, type WebchatOptions } from '../../src/webchat/handler.js';
import { converseDistDir } from '../../src/webchat/assets.js';
import { negotiateEncoding } from '../../src/webchat/encoding.js';
import { validateWebchat, webchatOptions } from '../../src/webchat/index.js';
import { ConfigError } from '../../src/config-schema.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Ctx {
  server: Server;
  port: number;
  handler: WebchatHandler;
  resolved: Array<{ key: string; forcetype: boolean }>;
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function pageConfig(html: string): { settings: Record<string, unknown>; readonly: unknown; transparent: unknown } {
  const m = /<script type="application\/json" id="webchat-config">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'page carries its settings block');
  return JSON.parse(m![1]);
}

const t = suite<Ctx>('webchat HTTP handler');

t.before(async (ctx) => {
  ctx.resolved = [];
  const opts: WebchatOptions = {
    basePath: '/webchat',
    websocketUrl: '/xmpp-websocket',
    boshUrl: 'http://127.0.0.1:1/http-bind',
    anonymousHost: 'anon.example.org',
    mucHost: 'room.example.org',
    defaultRoom: 'demo',
    title: (k) => `Chat </script><b>${k}`,
    resolveRoom: (key, { options }) => {
      ctx.resolved.push({ key, forcetype: options.forcetype });
      return key === 'missing' ? null : `${key}@room.example.org`;
    },
  };
  ctx.handler = createWebchatHandler(opts);
  ctx.server = createServer((req, res) => {
    if (!ctx.handler(req, res)) {
      res.writeHead(418);
      res.end('not mine');
    }
  });
  await new Promise<void>((r) => ctx.server.listen(0, '127.0.0.1', () => r()));
  ctx.port = (ctx.server.address() as AddressInfo).port;
  await ctx.handler.ready;
});

t.after(async (ctx) => {
  await new Promise<void>((r) => {
    ctx.server.close(() => r());
    ctx.server.closeAllConnections();
  });
});

t('the room page: HTML, no-cache, strict CSP, settings for anonymous login and auto-join', async ({ port }) => {
  const r = await get(port, '/webchat/room/my-stream');
  assert.is(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/html/);
  assert.is(r.headers['cache-control'], 'no-cache');
  const csp = String(r.headers['content-security-policy']);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.not.match(csp, /unsafe-eval/);
  assert.not.match(csp, /style-src 'self' 'unsafe-inline'/);
  assert.match(csp, /connect-src 'self' http:\/\/127\.0\.0\.1:1/);
  const html = r.body.toString('utf8');
  const cfg = pageConfig(html);
  const s = cfg.settings;
  assert.is(s.authentication, 'anonymous');
  assert.is(s.jid, 'anon.example.org');
  assert.equal(s.auto_join_rooms, ['my-stream@room.example.org']);
  assert.is(s.websocket_url, '/xmpp-websocket');
  assert.is(s.bosh_service_url, 'http://127.0.0.1:1/http-bind');
  assert.is(s.send_chat_state_notifications, false);
  assert.equal(s.send_chat_markers, []);
  assert.is(s.lazy_load_vcards, true);
  assert.is(s.prune_messages_above, 100);
  assert.is(s.discover_connection_methods, false);
  assert.is(s.muc_nickname_from_jid, false);
  assert.is(cfg.readonly, false);
  // The title option cannot break out of <title>.
  assert.ok(html.includes('<title>Chat &#60;/script&#62;&#60;b&#62;my-stream</title>'));
  // Only assets that exist are referenced.
  for (const m of html.matchAll(/(?:href|src)="(\/webchat\/assets\/[^"]+)"/g)) {
    assert.is((await get(port, m[1])).status, 200, m[1]);
  }
});

t('query options as livechat names them', async (ctx) => {
  ctx.resolved.length = 0;
  const r = await get(ctx.port, '/webchat/room/channel.12?_readonly=true&_transparent=true&forcetype=1');
  const cfg = pageConfig(r.body.toString('utf8'));
  assert.is(cfg.readonly, 'true');
  assert.is(cfg.transparent, true);
  assert.equal(ctx.resolved, [{ key: 'channel.12', forcetype: true }]);
  assert.is(cfg.settings.hide_muc_participants, true);
  assert.is(
    pageConfig((await get(ctx.port, '/webchat/room/x?_readonly=noscroll')).body.toString()).readonly,
    'noscroll',
  );
  assert.is(pageConfig((await get(ctx.port, '/webchat/room/x?_readonly=yes')).body.toString()).readonly, false);
});

t('unknown rooms and bad room names are 404, the base path redirects to the demo room', async ({ port }) => {
  assert.is((await get(port, '/webchat/room/missing')).status, 404);
  assert.is((await get(port, '/webchat/room/a%40b')).status, 404);
  assert.is((await get(port, '/webchat/room/%E0%A4%A')).status, 400);
  assert.is((await get(port, '/webchat/room/')).status, 404);
  const r = await get(port, '/webchat/');
  assert.is(r.status, 302);
  assert.is(r.headers.location, '/webchat/room/demo');
});

t('paths outside the web chat are left to the next handler; other methods are refused', async ({ port }) => {
  assert.is((await get(port, '/webchatx')).status, 418);
  assert.is((await get(port, '/xmpp-websocket')).status, 418);
  const r = await get(port, '/webchat/room/demo', {}, 'POST');
  assert.is(r.status, 405);
  assert.is(r.headers.allow, 'GET, HEAD');
});

t(
  'ConverseJS assets: immutable caching, brotli/gzip/identity by Accept-Encoding, ETag and 304',
  async ({ port, handler }) => {
    const store = await handler.ready;
    const path = `/webchat/assets/${store.urls.converseJs}`;
    const original = await readFile(join(converseDistDir(), 'converse.min.js'));

    const br = await get(port, path, { 'accept-encoding': 'gzip, deflate, br' });
    assert.is(br.status, 200);
    assert.is(br.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.is(br.headers['content-encoding'], 'br');
    assert.is(br.headers.vary, 'Accept-Encoding');
    assert.match(String(br.headers['content-type']), /^text\/javascript/);
    assert.ok(
      br.body.length < original.length / 3,
      `brotli shrinks the bundle (${br.body.length} of ${original.length})`,
    );
    assert.ok(brotliDecompressSync(br.body).equals(original));

    const gz = await get(port, path, { 'accept-encoding': 'gzip' });
    assert.is(gz.headers['content-encoding'], 'gzip');
    assert.ok(gunzipSync(gz.body).equals(original));
    assert.is.not(gz.headers.etag, br.headers.etag, 'each encoding has its own validator');

    const plain = await get(port, path);
    assert.is(plain.headers['content-encoding'], undefined);
    assert.ok(plain.body.equals(original));

    const again = await get(port, path, { 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) });
    assert.is(again.status, 304);
    assert.is(again.body.length, 0);
    assert.is(again.headers['cache-control'], 'public, max-age=31536000, immutable');

    const head = await get(port, path, { 'accept-encoding': 'br' }, 'HEAD');
    assert.is(head.status, 200);
    assert.is(head.headers['content-length'], String(br.body.length));
    assert.is(head.body.length, 0);
  },
);

t(
  'our boot script and CSS have content-hashed names; converse chunks live in the versioned folder',
  async ({ port, handler }) => {
    const store = await handler.ready;
    assert.match(store.urls.bootJs, /^webchat\.[\w-]{10}\.js$/);
    assert.match(store.urls.bootCss, /^webchat\.[\w-]{10}\.css$/);
    assert.match(store.urls.converseDir, /^c-[\w-]{10}\/$/);
    const locale = await get(
      port,
      `/webchat/assets/${store.urls.converseDir}chunkjs/locales/fr-LC_MESSAGES-converse-po.js`,
      { 'accept-encoding': 'gzip' },
    );
    assert.is(locale.status, 200);
    assert.is(locale.headers['content-encoding'], 'gzip');
    const font = await get(port, `/webchat/assets/${store.urls.converseDir}webfonts/muli.ttf`);
    assert.is(font.status, 200);
    assert.is(font.headers['content-type'], 'font/ttf');
  },
);

t('asset requests never reach files outside the index', async ({ port, handler }) => {
  const store = await handler.ready;
  const dir = store.urls.converseDir;
  for (const p of [
    `/webchat/assets/${dir}../package.json`,
    `/webchat/assets/${dir}%2e%2e/package.json`,
    `/webchat/assets/${dir}converse.min.js.map`,
    `/webchat/assets/${dir}`,
    '/webchat/assets/../../package.json',
    '/webchat/assets/c-0000000000/converse.min.js',
  ]) {
    assert.is((await get(port, p)).status, 404, p);
  }
});

t('the page revalidates with its ETag', async ({ port }) => {
  const first = await get(port, '/webchat/room/demo', { 'accept-encoding': 'br' });
  assert.is(first.headers['content-encoding'], 'br');
  assert.match(brotliDecompressSync(first.body).toString(), /<!DOCTYPE html>/);
  const second = await get(port, '/webchat/room/demo', {
    'accept-encoding': 'br',
    'if-none-match': String(first.headers.etag),
  });
  assert.is(second.status, 304);
});

t('a page with no transport configured says so instead of rendering a chat that cannot connect', async () => {
  const h = createWebchatHandler({
    basePath: '/w',
    anonymousHost: 'a.x',
    mucHost: 'r.x',
    assets: (await import('../../src/webchat/assets.js')).AssetStore.load(),
    warm: false,
  });
  const srv = createServer((req, res) => {
    if (!h(req, res)) {
      res.writeHead(418);
      res.end();
    }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  try {
    assert.is((await get((srv.address() as AddressInfo).port, '/w/room/x')).status, 503);
    assert.is(
      (await get((srv.address() as AddressInfo).port, '/w/')).status,
      418,
      'no default room: base path not ours',
    );
  } finally {
    await new Promise<void>((r) => srv.close(() => r()));
  }
});

t('behind an Express-style router (mount path stripped from req.url), URLs use the public prefix', async () => {
  const h = createWebchatHandler({
    basePath: '/webchat',
    publicBasePath: '/plugins/livechat/router/webchat',
    websocketUrl: '/ws',
    anonymousHost: 'a.x',
    mucHost: 'r.x',
    defaultRoom: 'demo',
    assets: (await import('../../src/webchat/assets.js')).AssetStore.load(),
    warm: false,
  });
  const srv = createServer((req, res) => {
    if (!h(req, res)) {
      res.writeHead(418);
      res.end();
    }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  try {
    const page = (await get(port, '/webchat/room/v1')).body.toString();
    assert.match(page, /src="\/plugins\/livechat\/router\/webchat\/assets\/c-[\w-]+\/converse\.min\.js"/);
    assert.match(
      JSON.stringify(pageConfig(page).settings.assets_path),
      /^"\/plugins\/livechat\/router\/webchat\/assets\/c-/,
    );
    assert.is((await get(port, '/webchat/')).headers.location, '/plugins/livechat/router/webchat/room/demo');
    assert.is(h.roomPath('v1'), '/plugins/livechat/router/webchat/room/v1');
  } finally {
    await new Promise<void>((r) => srv.close(() => r()));
  }
});

t('Accept-Encoding negotiation', () => {
  assert.is(negotiateEncoding(undefined), 'identity');
  assert.is(negotiateEncoding('gzip, deflate, br, zstd'), 'br');
  assert.is(negotiateEncoding('gzip'), 'gzip');
  assert.is(negotiateEncoding('br;q=0, gzip'), 'gzip');
  assert.is(negotiateEncoding('gzip;q=0, br;q=0'), 'identity');
  assert.is(negotiateEncoding('gzip;q=1.0, br;q=0.5'), 'gzip');
  assert.is(negotiateEncoding('*'), 'br');
  assert.is(negotiateEncoding('*;q=0, gzip'), 'gzip');
  assert.is(negotiateEncoding('identity'), 'identity');
});

t('config section: defaults, errors that name the field, wiring to handler options', () => {
  const d = validateWebchat(undefined);
  assert.equal(d, {
    enabled: true,
    basePath: '/webchat',
    defaultRoom: undefined,
    frameAncestors: '*',
    pruneMessagesAbove: 100,
    clientLogLevel: 'warn',
    tempBanDurations: [600, 3600, 86400],
  });
  const server = {
    anonymousHost: 'anon.localhost',
    mucHost: 'room.localhost',
    http: { websocketPath: '/xmpp-websocket', boshPath: '/http-bind' },
  };
  assert.is(webchatOptions(d, server, 'demo').defaultRoom, 'demo', 'follows the MUC demo room');
  assert.is(
    webchatOptions(validateWebchat({ defaultRoom: null }), server, 'demo').defaultRoom,
    undefined,
    'null turns it off',
  );
  assert.is(webchatOptions(validateWebchat({ defaultRoom: 'lobby' }), server, 'demo').defaultRoom, 'lobby');
  const o = webchatOptions(d, server, null);
  assert.is(o.websocketUrl, '/xmpp-websocket');
  assert.is(o.boshUrl, '/http-bind');
  assert.equal(webchatOptions(validateWebchat({ tempBanDurations: [300] }), server, null).tempBanDurations, [300]);
  for (const [raw, field] of [
    [{ basePath: 'webchat' }, 'webchat.basePath'],
    [{ basePath: '/webchat/' }, 'webchat.basePath'],
    [{ defaultRoom: 'a b' }, 'webchat.defaultRoom'],
    [{ frameAncestors: '*; script-src *' }, 'webchat.frameAncestors'],
    [{ pruneMessagesAbove: 1 }, 'webchat.pruneMessagesAbove'],
    [{ colour: 'red' }, 'webchat.colour'],
    [{ tempBanDurations: [] }, 'webchat.tempBanDurations'],
    [{ tempBanDurations: [60, 0.5] }, 'webchat.tempBanDurations'],
  ] as const) {
    try {
      validateWebchat(raw);
      assert.unreachable(`accepted ${JSON.stringify(raw)}`);
    } catch (e) {
      assert.instance(e, ConfigError);
      assert.is((e as ConfigError).field, field);
    }
  }
});

t.run();
