// The packed plugin, installed as PeerTube 8 installs one from disk (pnpm in its plugins folder) and loaded by the
// PeerTube host emulation (test/plugin/host/), driven over the host's HTTP server: the install with yarn 1 as
// PeerTube 7 does it, PeerTube's headers and rate limit around the plugin routes, anonymous and logged-in @xmpp/client over the plugin's
// WebSocket route, BOSH on its router, the chat page, api/auth and tokens, the per-video chat switch through
// PeerTube-shaped hook payloads, a live settings change, and unregister.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import {
  mkdtempSync,
  rmSync,
  existsSync,
  mkdirSync,
  writeFileSync,
  readFileSync,
  readdirSync,
  renameSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { PeerTubeHost } from './host/plugin-host.js';
import { disposePlugin, installPlugin } from './host/installed.js';
import { connectClient, xml, type TestClient, type Stanza } from '../helpers/xmpp-client.js';
import { api, loginWithToken, wsService } from './host/router-api.js';
import { enterRoom } from '../helpers/muc-join.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const MUC = 'http://jabber.org/protocol/muc';
const MUC_USER = 'http://jabber.org/protocol/muc#user';

interface Ctx {
  host: PeerTubeHost;
  dir: string;
  tgz: string;
  live: { id: number; uuid: string };
  quiet: { id: number; uuid: string };
  alice: { token: string };
  bob: { token: string };
  clients: TestClient[];
}

const t = suite<Ctx>('PeerTube plugin in the host emulation');

const joinRoom = (c: TestClient, roomJid: string, nick: string) => enterRoom(c, `${roomJid}/${nick}`, { history: 0 });

function itemOf(p: Stanza) {
  return p.getChild('x', MUC_USER)?.getChild('item')?.attrs ?? {};
}

t.before(async (ctx) => {
  ctx.clients = [];
  Object.assign(ctx, await installPlugin('peertube-host'));
  ctx.host.db.addUser('root', 0, 'Administrator');
  const alice = ctx.host.db.addUser('alice', 2, 'Alice Streamer');
  const bob = ctx.host.db.addUser('bob', 2, 'Bob Viewer');
  ctx.alice = alice.user;
  ctx.bob = bob.user;
  ctx.live = ctx.host.db.addVideo('Alice live', alice.channel.id, true, '11111111-2222-4333-8444-555555555555');
  ctx.quiet = ctx.host.db.addVideo('Alice other live', alice.channel.id, true, '66666666-7777-4888-8999-000000000000');
  // Switching from livechat: its Prosody kept the live's room and two archived messages in the plugin data folder.
  const prosody = join(ctx.host.dataDir(), 'prosody', 'data', 'room%2elocalhost');
  const lp = ctx.live.uuid.replace(/-/g, '%2d');
  mkdirSync(join(prosody, 'config'), { recursive: true });
  mkdirSync(join(prosody, 'muc_log'), { recursive: true });
  writeFileSync(
    join(prosody, 'config', `${lp}.dat`),
    `return { ["_jid"] = "${ctx.live.uuid}@room.localhost"; ["_data"] = { ["name"] = "Alice live"; ["persistent"] = true }; ["alice@localhost"] = "owner"; ["root@localhost"] = "admin"; };`,
  );
  const item = (key: string, body: string, when: number) =>
    `item({\n\t{\n\t\t"${body}";\n\t\t["name"] = "body";\n\t};\n` +
    `\t["attr"] = { ["from"] = "${ctx.live.uuid}@room.localhost/OldTimer"; ["type"] = "groupchat"; ["id"] = "${key}" };\n` +
    `\t["key"] = "${key}"; ["with"] = "message<groupchat"; ["when"] = ${when}; ["name"] = "message";\n});\n`;
  const now = Math.floor(Date.now() / 1000);
  writeFileSync(
    join(prosody, 'muc_log', `${lp}.list`),
    item('k1', 'said under livechat', now - 120) + item('k2', 'still here after the switch', now - 60),
  );
  await ctx.host.register();
  // The live creation form with "use chat" ticked, as PeerTube hands it to action hooks.
  await ctx.host.runHook('action:api.live-video.created', undefined, {
    video: ctx.host.db.loadVideo(ctx.live.id),
    req: { body: { pluginData: { 'livechat-active': true } } },
  });
  await ctx.host.settle();
});

t.after(async (ctx) => {
  for (const c of ctx.clients) await c.stop();
  await disposePlugin(ctx);
});

t(
  'package: PeerTube accepts it; library is CommonJS; engine satisfied by PeerTube 8.2; settings and files registered',
  (ctx) => {
    const p = ctx.host.pkg;
    assert.is(p.name, 'peertube-plugin-livechat');
    assert.ok(p.library.endsWith('.cjs'));
    const m = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(p.engine.peertube);
    assert.ok(m, `engine.peertube ${p.engine.peertube}`);
    assert.ok(Number(m![1]) < 8 || (Number(m![1]) === 8 && Number(m![2]) <= 2), `8.2.0 satisfies ${p.engine.peertube}`);
    for (const f of [...p.css, ...p.clientScripts.map((c) => c.script), ...Object.values(p.translations)]) {
      assert.ok(existsSync(join(ctx.host.pluginPath, f)), `${f} shipped`);
    }
    const form = ctx.host.currentSettingsForm();
    assert.is(form['chat-per-live-video'], true);
    assert.is(form['prosody-room-type'], 'video');
    assert.is(form['prosody-muc-expiration'], '1w');
    assert.is(form['chat-no-anonymous'], false);
    // PeerTube picks the first registered route starting with the path: each path must reach its own route.
    assert.is(ctx.host.webSocketRouteFor('/xmpp-websocket'), '/xmpp-websocket');
    assert.is(ctx.host.webSocketRouteFor('/xmpp-websocket-s2s'), '/xmpp-websocket-s2s');
  },
);

t('installed as PeerTube 8 installs it (pnpm): ConverseJS ships inside the package, not as a dependency', (ctx) => {
  // converse.js from the registry depends on "file:src/log", which pnpm and yarn 1 refuse ("Cannot install plugin").
  const deps = (ctx.host.pkg as unknown as { dependencies: Record<string, string> }).dependencies;
  assert.not.ok('converse.js' in deps, 'converse.js is not a dependency');
  assert.ok(
    existsSync(join(ctx.host.pluginPath, 'dist', 'converse.js', 'dist', 'converse.min.js')),
    'ConverseJS shipped',
  );
  assert.ok(existsSync(join(ctx.host.pluginPath, 'dist', 'converse.js', 'LICENSE')), "ConverseJS's licence shipped");
  assert.ok(existsSync(join(ctx.dir, 'plugins', 'pnpm-workspace.yaml')), 'installed by pnpm');
});

t('PeerTube 7 (yarn 1) installs the same package; its chat page loads ConverseJS from the package', async (ctx) => {
  const dir = mkdtempSync(join(tmpdir(), 'peertube-host-yarn-'));
  const host = new PeerTubeHost(dir);
  try {
    host.install(ctx.tgz, 'yarn');
    assert.ok(existsSync(join(dir, 'plugins', 'yarn.lock')), 'installed by yarn');
    await host.listen();
    const alice = host.db.addUser('alice', 2, 'Alice Streamer');
    const live = host.db.addVideo('Alice live', alice.channel.id, true, '12121212-3434-4565-8787-909090909090');
    await host.register();
    await host.runHook('action:api.live-video.created', undefined, {
      video: host.db.loadVideo(live.id),
      req: { body: { pluginData: { 'livechat-active': true } } },
    });
    await host.settle();
    const page = await fetch(`${host.url}/plugins/livechat/router/webchat/room/${live.uuid}`);
    const html = await page.text();
    assert.is(page.status, 200);
    const script = /src="([^"]*converse\.min\.js)"/.exec(html)?.[1];
    assert.ok(script, 'the page loads converse.min.js');
    const js = await fetch(new URL(script!, page.url));
    assert.is(js.status, 200);
    assert.ok((await js.arrayBuffer()).byteLength > 100_000, 'ConverseJS served');
    // Its best compression is kept in the chat server's data folder, for the next start.
    const cache = join(host.dataDir(), 'xmpp', 'cache', 'webchat');
    const kept = () => (existsSync(cache) ? readdirSync(cache) : []).filter((f) => !f.endsWith('.tmp'));
    for (let i = 0; i < 600 && kept().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(kept().length > 0, `a compressed body kept in ${cache}`);
  } finally {
    await host.unregister().catch(() => undefined);
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

t(
  'a package folder not named after the plugin is refused, as PeerTube refuses it (it takes the npm name from the folder)',
  (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'peertube-host-folder-'));
    try {
      const up = join(dir, 'upload');
      mkdirSync(up);
      execFileSync('tar', ['-xzf', ctx.tgz, '-C', up]);
      const host = new PeerTubeHost(dir);
      assert.throws(
        () => host.installFromDisk(join(up, 'package')),
        /ENOENT.*node_modules\/peertube-theme-package\/package\.json/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

t(
  "PeerTube's X-Frame-Options: DENY is taken off the chat page only (its CSP frame-ancestors governs framing)",
  async (ctx) => {
    const page = await fetch(`${ctx.host.url}/plugins/livechat/router/webchat/room/${ctx.live.uuid}`);
    assert.is(page.status, 200);
    assert.is(page.headers.get('x-frame-options'), null);
    assert.match(String(page.headers.get('content-security-policy')), /frame-ancestors 'self'/);
    const auth = await api(ctx, 'GET', '/api/auth');
    assert.is(auth.headers.get('x-frame-options'), 'DENY', "other plugin routes keep PeerTube's header");
  },
);

t('the per-video switch from live creation shows in the video API (filter:api.video.get.result)', async (ctx) => {
  const v = await ctx.host.runHook('filter:api.video.get.result', { ...ctx.host.db.loadVideo(ctx.live.id) } as any);
  assert.is((v as any).pluginData['livechat-active'], true);
  const q = await ctx.host.runHook('filter:api.video.get.result', { ...ctx.host.db.loadVideo(ctx.quiet.id) } as any);
  assert.is((q as any).pluginData['livechat-active'], false);
});

t("anonymous viewer over the WebSocket route joins the live's room; a video without chat has no room", async (ctx) => {
  const c = await connectClient({ service: wsService(ctx), domain: 'anon.localhost' });
  ctx.clients.push(c);
  assert.match(c.jid, /@anon\.localhost\//);
  const room = `${ctx.live.uuid}@room.localhost`;
  const self = await joinRoom(c, room, 'viewer1');
  assert.is(self.attrs.type, undefined, 'joined');
  const refused = await joinRoom(c, `${ctx.quiet.uuid}@room.localhost`, 'viewer1');
  assert.is(refused.attrs.type, 'error');
  assert.ok(refused.getChild('error')?.getChild('not-allowed'), 'not-allowed');
  const bogus = await joinRoom(c, 'random-room@room.localhost', 'viewer1');
  assert.is(bogus.attrs.type, 'error');
});

t("avatars: occupants' presences carry an avatar hash whose PNG the plugin router serves", async (ctx) => {
  const c = await connectClient({ service: wsService(ctx), domain: 'anon.localhost' });
  const room = `${ctx.live.uuid}@room.localhost`;
  await c.send(
    xml('presence', { to: `${room}/painter` }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '0' }))),
  );
  const withPhoto = await c.waitFor(
    (s) =>
      s.is('presence') &&
      (s.attrs.from ?? '').startsWith(`${room}/`) &&
      !!s.getChild('x', 'vcard-temp:x:update')?.getChildText('photo'),
    15000,
    'a presence with an avatar hash',
  );
  const hash = withPhoto.getChild('x', 'vcard-temp:x:update')!.getChildText('photo');
  const png = await fetch(`${ctx.host.url}/plugins/livechat/router/avatars/${hash}.png`);
  assert.is(png.status, 200);
  assert.is(png.headers.get('content-type'), 'image/png');
  assert.is((await fetch(`${ctx.host.url}/plugins/livechat/router/avatars/${'0'.repeat(40)}.png`)).status, 404);
  await c.stop();
});

t("switching from livechat: the room's history kept by Prosody shows to a new viewer", async (ctx) => {
  const c = await connectClient({ service: wsService(ctx), domain: 'anon.localhost' });
  ctx.clients.push(c);
  const room = `${ctx.live.uuid}@room.localhost`;
  await c.send(
    xml('presence', { to: `${room}/historian` }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '10' }))),
  );
  const old = await c.waitFor(
    (s) =>
      s.is('message') &&
      s.attrs.from === `${room}/OldTimer` &&
      s.getChildText('body') === 'still here after the switch',
    15000,
    'imported history',
  );
  assert.ok(old.getChild('delay', 'urn:xmpp:delay'), 'delivered as history');
  await c.waitFor(
    (s) => s.is('message') && s.getChildText('body') === 'said under livechat',
    5000,
    'older imported message',
  );
  assert.ok(
    ctx.host.logs.some((l) => /livechat import: 1 rooms, 2 messages, 0 errors/.test(l)),
    ctx.host.logs.filter((l) => /import/.test(l)).join('\n'),
  );
  await c.stop();
});

t('api/auth: 403 without login; a logged-in user gets {jid, password, nickname} and logs in with it', async (ctx) => {
  const anon = await api(ctx, 'GET', '/api/auth');
  assert.is(anon.status, 403);
  const r = await api(ctx, 'GET', '/api/auth', ctx.alice.token);
  assert.is(r.status, 200);
  assert.is(r.json.jid, 'alice@localhost');
  assert.is(r.json.nickname, 'Alice Streamer');
  assert.ok(typeof r.json.password === 'string' && r.json.password.length >= 16);
  const again = await api(ctx, 'GET', '/api/auth', ctx.alice.token);
  assert.is(again.json.password, r.json.password, 'renewed, not replaced');

  const bad = connectClient({
    service: wsService(ctx),
    domain: 'localhost',
    username: 'alice',
    password: 'wrong-password',
  });
  await bad.then(
    (c) => {
      ctx.clients.push(c);
      assert.unreachable('wrong password accepted');
    },
    (e: Error) => assert.match(String(e), /not-authorized/),
  );

  const alice = await connectClient({
    service: wsService(ctx),
    domain: 'localhost',
    username: 'alice',
    password: r.json.password,
  });
  ctx.clients.push(alice);
  assert.match(alice.jid, /^alice@localhost\//);
  const room = `${ctx.live.uuid}@room.localhost`;
  const self = await joinRoom(alice, room, 'Alice');
  assert.is(itemOf(self).affiliation, 'owner', 'the video owner owns the room');

  // An anonymous viewer in the same room sees Alice's message.
  const viewer = ctx.clients[0];
  await alice.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, 'welcome to my live')));
  await viewer.waitFor(
    (s) => s.is('message') && s.attrs.from === `${room}/Alice` && s.getChildText('body') === 'welcome to my live',
    15000,
    "Alice's message",
  );

  // The instance admin is a room admin (livechat gave them that affiliation; the import kept it).
  const admin = await loginWithToken(ctx, ctx.host.db.users[0].token, 'root');
  ctx.clients.push(admin);
  const adminSelf = await joinRoom(admin, room, 'Admin');
  assert.is(itemOf(adminSelf).affiliation, 'admin');
});

t('long-term tokens: create, list, log in with one, revoke', async (ctx) => {
  assert.is((await api(ctx, 'GET', '/api/auth/tokens')).status, 403);
  const created = await api(ctx, 'POST', '/api/auth/tokens', ctx.bob.token, { label: 'OBS dock' });
  assert.is(created.status, 200);
  assert.is(created.json.label, 'OBS dock');
  assert.is(created.json.jid, 'bob@localhost');
  const list = await api(ctx, 'GET', '/api/auth/tokens', ctx.bob.token);
  assert.is(list.json.length, 1);
  assert.is(list.json[0].password, created.json.password);
  assert.ok(existsSync(join(ctx.host.dataDir(), 'tokens', 'bob@localhost.json')), "stored in livechat's layout");
  const bob = await connectClient({
    service: wsService(ctx),
    domain: 'localhost',
    username: 'bob',
    password: created.json.password,
  });
  ctx.clients.push(bob);
  await bob.stop();
  assert.is((await api(ctx, 'DELETE', `/api/auth/tokens/${created.json.id}`, ctx.bob.token)).status, 200);
  await connectClient({
    service: wsService(ctx),
    domain: 'localhost',
    username: 'bob',
    password: created.json.password,
  }).then(
    (c) => {
      ctx.clients.push(c);
      assert.unreachable('revoked token accepted');
    },
    (e: Error) => assert.match(String(e), /not-authorized/),
  );
});

t(
  'BOSH on the router: PeerTube leaves the text/xml body unread, the session starts with ANONYMOUS offered',
  async (ctx) => {
    const res = await fetch(`${ctx.host.url}/plugins/livechat/router/http-bind`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml; charset=utf-8' },
      body: "<body content='text/xml; charset=utf-8' hold='1' rid='1573741820' to='anon.localhost' ver='1.6' wait='10' xml:lang='en' xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' xmpp:version='1.0'/>",
    });
    assert.is(res.status, 200);
    const text = await res.text();
    assert.match(text, /sid=/);
    assert.match(text, /<mechanism>ANONYMOUS<\/mechanism>/);
  },
);

t('chat page: served for a video with chat, iframe-able, 404 for a video without chat', async (ctx) => {
  const page = await fetch(`${ctx.host.url}/plugins/livechat/router/webchat/room/${ctx.live.uuid}`);
  assert.is(page.status, 200);
  assert.is(page.headers.get('x-frame-options'), null);
  const html = await page.text();
  assert.ok(html.includes(`${ctx.live.uuid}@room.localhost`), "the page joins the video's room");
  assert.ok(html.includes('/plugins/livechat/ws/xmpp-websocket'), 'WebSocket through the plugin route');
  assert.ok(html.includes('/plugins/livechat/router/http-bind'), 'BOSH through the plugin router');
  const versioned = await fetch(
    `${ctx.host.url}/plugins/livechat/${ctx.host.pkg.version}/router/webchat/room/${ctx.live.uuid}`,
  );
  assert.is(versioned.status, 200);
  assert.is((await fetch(`${ctx.host.url}/plugins/livechat/router/webchat/room/${ctx.quiet.uuid}`)).status, 404);
  const infos = await api(ctx, 'GET', '/api/federation_server_infos');
  assert.is(infos.json.host, 'localhost');
  assert.is(infos.json.muc, 'room.localhost');
  assert.is(infos.json.anonymous.virtualhost, 'anon.localhost');
});

t(
  'the chat switched off on the video update form closes its room; on again, it reopens with its history',
  async (ctx) => {
    const viewer = ctx.clients[0];
    const room = `${ctx.live.uuid}@room.localhost`;
    await ctx.host.runHook('action:api.video.updated', undefined, {
      video: ctx.host.db.loadVideo(ctx.live.id),
      body: { pluginData: { 'livechat-active': 'false' } },
    });
    await ctx.host.settle();
    const gone = await viewer.waitFor(
      (s) => s.is('presence') && s.attrs.from === `${room}/viewer1` && s.attrs.type === 'unavailable',
      15000,
      'removed from the closed room',
    );
    assert.ok(
      gone
        .getChild('x', MUC_USER)
        ?.getChildren('status')
        .some((st: Stanza) => st.attrs.code === '332'),
      'status 332',
    );
    const refused = await joinRoom(viewer, room, 'viewer2');
    assert.is(refused.attrs.type, 'error');
    assert.ok(refused.getChild('error')?.getChild('not-allowed'), 'not-allowed while closed');
    assert.is(
      (await fetch(`${ctx.host.url}/plugins/livechat/router/webchat/room/${ctx.live.uuid}`)).status,
      404,
      'no page while closed',
    );
    await ctx.host.runHook('action:api.video.updated', undefined, {
      video: ctx.host.db.loadVideo(ctx.live.id),
      body: { pluginData: { 'livechat-active': true } },
    });
    await ctx.host.settle();
    await viewer.send(
      xml('presence', { to: `${room}/viewer3` }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '20' }))),
    );
    const back = await viewer.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/viewer3`, 15000, 'rejoined');
    assert.is(back.attrs.type, undefined);
    await viewer.waitFor(
      (s) =>
        s.is('message') &&
        s.attrs.from === `${room}/Alice` &&
        s.getChildText('body') === 'welcome to my live' &&
        !!s.getChild('delay', 'urn:xmpp:delay'),
      15000,
      'history kept',
    );
  },
);

t('a settings change that takes the chat away closes the room too (chat-per-live-video off)', async (ctx) => {
  const viewer = ctx.clients[0];
  const room = `${ctx.live.uuid}@room.localhost`;
  void ctx.host.saveSettings({ ...ctx.host.currentSettingsForm(), 'chat-per-live-video': false });
  await ctx.host.settle();
  await viewer.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${room}/viewer3` && s.attrs.type === 'unavailable',
    15000,
    'removed',
  );
  assert.is((await joinRoom(viewer, room, 'viewer4')).attrs.type, 'error');
  void ctx.host.saveSettings({ ...ctx.host.currentSettingsForm(), 'chat-per-live-video': true });
  await ctx.host.settle();
  assert.is((await joinRoom(viewer, room, 'viewer5')).attrs.type, undefined);
});

t(
  "settings change applies live: chat-no-anonymous turns anonymous login off by the time the admin's save answers",
  async (ctx) => {
    // PeerTube answers the save (204) once the plugin's settings callbacks resolved: no waiting beyond that.
    await ctx.host.saveSettings({ ...ctx.host.currentSettingsForm(), 'chat-no-anonymous': true });
    await connectClient({ service: wsService(ctx), domain: 'anon.localhost' }).then(
      (c) => {
        ctx.clients.push(c);
        assert.unreachable('anonymous login still accepted');
      },
      () => {
        /* refused */
      },
    );
    void ctx.host.saveSettings({ ...ctx.host.currentSettingsForm(), 'chat-no-anonymous': false });
    await ctx.host.settle();
    const c = await connectClient({ service: wsService(ctx), domain: 'anon.localhost' });
    ctx.clients.push(c);
  },
);

t('room type "channel": the live\'s page joins channel.<id>@room.<host>, owned by the channel owner', async (ctx) => {
  void ctx.host.saveSettings({ ...ctx.host.currentSettingsForm(), 'prosody-room-type': 'channel' });
  await ctx.host.settle();
  const channelId = ctx.host.db.videos.find((v) => v.id === ctx.live.id)!.channelId;
  const room = `channel.${channelId}@room.localhost`;
  const html = await (await fetch(`${ctx.host.url}/plugins/livechat/router/webchat/room/${ctx.live.uuid}`)).text();
  assert.ok(html.includes(room), 'page joins the channel room');
  const alice = await loginWithToken(ctx, ctx.alice.token, 'alice');
  ctx.clients.push(alice);
  const self = await joinRoom(alice, room, 'Alice');
  assert.is(itemOf(self).affiliation, 'owner');
  // A room the creation callback seeded: instance administrators are room admins.
  const admin = await loginWithToken(ctx, ctx.host.db.users[0].token, 'root');
  ctx.clients.push(admin);
  assert.is(itemOf(await joinRoom(admin, room, 'Admin')).affiliation, 'admin');
  await admin.stop();
  const perVideo = await joinRoom(alice, `${ctx.quiet.uuid}@room.localhost`, 'Alice');
  assert.is(perVideo.attrs.type, 'error', 'no per-video rooms in channel mode');
  await alice.stop();
  void ctx.host.saveSettings({ ...ctx.host.currentSettingsForm(), 'prosody-room-type': 'video' });
  await ctx.host.settle();
});

t(
  "ActivityPub: the live's Video object gets the FEP-1970 link and peertubeLiveChat; no chat, nothing added",
  async (ctx) => {
    const ap = (v: { uuid: string; name: string }) => ({
      type: 'Video',
      id: `${ctx.host.url}/videos/watch/${v.uuid}`,
      uuid: v.uuid,
      name: v.name,
      isLiveBroadcast: true,
      attachment: [{ type: 'Link', name: 'other', href: 'https://example.org/x', rel: 'other' }],
    });
    const live = ctx.host.db.loadVideo(ctx.live.id)!;
    const out = (await ctx.host.runHook('filter:activity-pub.video.json-ld.build.result', ap(ctx.live as any) as any, {
      video: live,
    })) as any;
    const links = out.attachment.filter((a: any) => a.rel === 'discussion');
    assert.is(links.length, 1);
    assert.is(links[0].href, `${ctx.host.url}/plugins/livechat/router/webchat/room/${ctx.live.uuid}`);
    assert.is(out.attachment[0].name, 'other', 'existing attachment kept');
    assert.is(out.peertubeLiveChat.jid, `${ctx.live.uuid}@room.localhost`);
    assert.is(out.peertubeLiveChat.xmppserver.anonymous.virtualhost, 'anon.localhost');
    const quiet = (await ctx.host.runHook(
      'filter:activity-pub.video.json-ld.build.result',
      ap(ctx.quiet as any) as any,
      { video: ctx.host.db.loadVideo(ctx.quiet.id) },
    )) as any;
    assert.is(quiet.attachment.filter((a: any) => a.rel === 'discussion').length, 0);
    assert.not.ok(quiet.peertubeLiveChat);

    // PeerTube's context array is shared between activities: the plugin returns a new one.
    const shared = ['https://www.w3.org/ns/activitystreams', { isLiveBroadcast: 'sc:isLiveBroadcast' }];
    const ctxOut = (await ctx.host.runHook('filter:activity-pub.activity.context.build.result', shared, {
      type: 'Video',
    })) as unknown[];
    assert.is(shared.length, 2, 'shared array untouched');
    assert.ok(ctxOut.length > 2 && JSON.stringify(ctxOut).includes('peertubeLiveChat'));

    const tags = (await ctx.host.runHook('filter:feed.podcast.video.create-custom-tags.result', [], {
      video: live,
      liveItem: true,
    })) as any[];
    const chat = tags.find((t) => t.name === 'podcast:chat');
    assert.ok(chat, '<podcast:chat> on the live item');
    assert.is(chat.attributes.protocol, 'xmpp');
    assert.is(chat.attributes.embedUrl, `${ctx.host.url}/plugins/livechat/router/webchat/room/${ctx.live.uuid}`);
    const none = (await ctx.host.runHook('filter:feed.podcast.video.create-custom-tags.result', [], {
      video: ctx.host.db.loadVideo(ctx.quiet.id),
      liveItem: true,
    })) as any[];
    assert.is(none.length, 0);
  },
);

t("a remote video's chat infos from ActivityPub are stored in livechat's layout", async (ctx) => {
  const uuid = '99999999-8888-4777-8666-555555555555';
  const remoteUrl = `https://remote.example/videos/watch/${uuid}`;
  await ctx.host.runHook('action:activity-pub.remote-video.updated', undefined, {
    video: { uuid, url: remoteUrl, remote: true, isLocal: () => false },
    videoAPObject: {
      type: 'Video',
      id: remoteUrl,
      uuid,
      peertubeLiveChat: {
        type: 'xmpp',
        jid: `${uuid}@room.remote.example`,
        xmppserver: { host: 'remote.example', muc: 'room.remote.example' },
      },
    },
  });
  await ctx.host.settle();
  assert.ok(
    existsSync(join(ctx.host.dataDir(), 'videoInfos', 'remote', 'remote.example', `${uuid}.json`)),
    'videoInfos/remote/<host>/<uuid>.json',
  );
});

t(
  "S2S over WebSocket: /xmpp-websocket-s2s reaches the server's XEP-0468 endpoint, which answers a stream",
  async (ctx) => {
    const ws = new WebSocket(`${ctx.host.url.replace(/^http/, 'ws')}/plugins/livechat/ws/xmpp-websocket-s2s`, 'xmpp');
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer on the S2S WebSocket')), 15000);
      ws.on('open', () =>
        ws.send("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' from='peer.example' version='1.0'/>"),
      );
      ws.on('message', (d) => {
        clearTimeout(timer);
        resolve(String(d));
      });
      ws.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    assert.match(first, /<open[^>]*urn:ietf:params:xml:ns:xmpp-framing/);
    ws.close();
  },
);

t('unregister: done within 10 s, routes answer 404, WebSocket refused', async (ctx) => {
  const started = Date.now();
  await ctx.host.unregister();
  assert.ok(Date.now() - started < 10_000, `unregister took ${Date.now() - started} ms`);
  assert.is((await fetch(`${ctx.host.url}/plugins/livechat/router/webchat/room/${ctx.live.uuid}`)).status, 404);
  assert.is((await api(ctx, 'GET', '/api/auth', ctx.alice.token)).status, 404);
  const ws = new WebSocket(wsService(ctx), 'xmpp');
  const outcome = await new Promise<string>((r) => {
    ws.on('open', () => r('open'));
    ws.on('error', () => r('error'));
    ws.on('close', () => r('closed'));
  });
  assert.not.equal(outcome, 'open');

  // PeerTube re-registers on update or re-enable: the plugin comes back with its persistent room.
  await ctx.host.register();
  const c = await connectClient({ service: wsService(ctx), domain: 'anon.localhost' });
  const self = await joinRoom(c, `${ctx.live.uuid}@room.localhost`, 'again');
  assert.is(self.attrs.type, undefined, 'room reachable after re-register');
  await c.stop();
  await ctx.host.unregister();
});

t(
  'installed again over the registered plugin (PeerTube 6.x registers it again without unregistering): the previous chat server stops',
  async (ctx) => {
    await ctx.host.register();
    const before = await connectClient({ service: wsService(ctx), domain: 'anon.localhost' });
    const dropped = new Promise<boolean>((r) => {
      before.xmpp.on('disconnect', () => r(true));
      setTimeout(() => r(false), 20_000);
    });
    await ctx.host.register();
    assert.ok(await dropped, "the previous server's connections closed");
    assert.ok(
      ctx.host.logs.some((l) => l.includes('registered again while still running')),
      'logged',
    );
    const after = await connectClient({ service: wsService(ctx), domain: 'anon.localhost' });
    assert.is((await joinRoom(after, `${ctx.live.uuid}@room.localhost`, 'after-reinstall')).attrs.type, undefined);
    await after.stop();
  },
);

t("PeerTube updates the plugin in place (same process, same folder): the new version's code runs", async (ctx) => {
  const up = mkdtempSync(join(tmpdir(), 'peertube-update-'));
  try {
    execFileSync('tar', ['-xzf', ctx.tgz, '-C', up]);
    const folder = join(up, 'peertube-plugin-livechat');
    renameSync(join(up, 'package'), folder);
    // The next version: package.json bumped and a line of its server code changed (the log on start).
    const pj = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
    pj.version = '0.1.1-next';
    writeFileSync(join(folder, 'package.json'), JSON.stringify(pj));
    let patched = 0;
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const f = join(d, e.name);
        if (e.isDirectory()) {
          if (e.name !== 'converse.js') walk(f);
          continue;
        }
        if (!/\.(m|c)?js$/.test(e.name)) continue;
        const code = readFileSync(f, 'utf8');
        if (code.includes('`serving ${')) {
          writeFileSync(f, code.replaceAll('`serving ${', '`serving (next version) ${'));
          patched++;
        }
      }
    };
    walk(join(folder, 'dist'));
    assert.ok(patched > 0, 'found the log line to change');
    await ctx.host.update(folder);
    assert.is(ctx.host.pkg.version, '0.1.1-next');
    assert.ok(
      ctx.host.logs.some((l) => l.includes('serving (next version) localhost')),
      `new code running; logs: ${ctx.host.logs.filter((l) => l.includes('serving')).join(' | ')}`,
    );
    const page = await fetch(`${ctx.host.url}/plugins/livechat/router/webchat/room/${ctx.live.uuid}`);
    assert.is(page.status, 200);
  } finally {
    await ctx.host.unregister().catch(() => undefined);
    rmSync(up, { recursive: true, force: true });
  }
});

t(
  'a process holding only the plugin exits by itself after unregister (no socket, timer or file left open)',
  async (ctx) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./host/exit-child.ts', import.meta.url)), ctx.dir],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d;
    });
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('still running 60 s after starting');
      }, 60_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c ?? -1);
      });
    });
    assert.is(code, 0, out);
    assert.match(out, /unregistered in \d+ ms/);
  },
);

t.run();
