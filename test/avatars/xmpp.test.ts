// Avatars as XMPP clients see them, driven by @xmpp/client over WebSocket: every occupant's presence carries a
// XEP-0153 photo hash from the join on, a vCard request to room/nick is answered with a PHOTO whose SHA-1 is that
// hash, anonymous viewers' own vCards carry one too, bots get the bot avatar, a PeerTube user's provider avatar
// replaces the computed one, and a client that advertises its own photo keeps it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type Stanza, type TestClient } from '../helpers/xmpp-client.js';
import sharp from 'sharp';

const MUC = 'http://jabber.org/protocol/muc';
const UPDATE = 'vcard-temp:x:update';
const T = 20_000;

interface Ctx {
  srv: TestServer;
  clients: TestClient[];
  providerCalls: string[];
}
const t = suite<Ctx>('avatars over XMPP');

async function anon(ctx: Ctx): Promise<TestClient> {
  const c = await connectClient({ service: ctx.srv.wsUrl, domain: 'anon.localhost' });
  ctx.clients.push(c);
  return c;
}
async function account(ctx: Ctx, name: string): Promise<TestClient> {
  const c = await connectClient({
    service: ctx.srv.wsUrl,
    domain: 'localhost',
    username: name,
    password: 'pw',
    resource: 'web',
  });
  ctx.clients.push(c);
  return c;
}

async function join(c: TestClient, room: string, nick: string, payload: Stanza[] = []): Promise<Stanza> {
  const full = `${room}@room.localhost/${nick}`;
  await c.send(
    xml('presence', { to: full }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '0' })), ...payload),
  );
  return c.waitFor(
    (s) =>
      s.is('presence') &&
      s.attrs.from === full &&
      !s.attrs.type &&
      !!s
        .getChild('x', `${MUC}#user`)
        ?.getChildren('status')
        .some((st: Stanza) => st.attrs.code === '110'),
    T,
    `own presence as ${nick}`,
  );
}

const hashIn = (p: Stanza): string | undefined => p.getChild('x', UPDATE)?.getChildText('photo') ?? undefined;

async function vcardOf(c: TestClient, to: string): Promise<{ png: Buffer; type: string; raw: Stanza }> {
  const res = await c.iq(xml('iq', { type: 'get', to }, xml('vCard', { xmlns: 'vcard-temp' })), T);
  const photo = res.getChild('vCard', 'vcard-temp')?.getChild('PHOTO');
  assert.ok(photo, `vCard of ${to} has a PHOTO: ${res.toString().slice(0, 200)}`);
  return { png: Buffer.from(photo!.getChildText('BINVAL')!, 'base64'), type: photo!.getChildText('TYPE')!, raw: res };
}
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

t.before(async (ctx) => {
  ctx.clients = [];
  ctx.providerCalls = [];
  const photo = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#ff006e' } })
    .png()
    .toBuffer();
  ctx.srv = await startTestServer(
    // Nothing drawn ahead: these tests count the drawings made on demand (drawn-ahead.test.ts covers the default).
    { testMode: true, avatars: { set: 'cats', bots: ['streambot@localhost'], drawAhead: 0 } },
    {
      options: {
        avatarProvider: async (jid) => {
          ctx.providerCalls.push(jid);
          return jid === 'peertube-user@localhost' ? photo : undefined;
        },
      },
    },
  );
});
t.after(async (ctx) => {
  for (const c of ctx.clients) await c.stop();
  await ctx.srv?.stop();
});

t('occupants see each other with photo hashes; room/nick vCards carry that exact PNG', async (ctx) => {
  const a = await anon(ctx);
  const b = await anon(ctx);
  const selfA = await join(a, 'show', 'Alice');
  const hashA = hashIn(selfA);
  assert.match(hashA ?? '', /^[0-9a-f]{40}$/, 'own presence carries the hash from the join on');
  await join(b, 'show', 'Bob');
  // Bob sees Alice's presence in the occupant list, with the same hash.
  const aliceSeenByBob = await b.waitFor((s) => s.is('presence') && s.attrs.from === 'show@room.localhost/Alice', T);
  assert.is(hashIn(aliceSeenByBob), hashA);
  const bobSeenByAlice = await a.waitFor((s) => s.is('presence') && s.attrs.from === 'show@room.localhost/Bob', T);
  const hashB = hashIn(bobSeenByAlice);
  assert.ok(hashB && hashB !== hashA);

  const v = await vcardOf(b, 'show@room.localhost/Alice');
  assert.is(v.type, 'image/png');
  assert.is(sha1(v.png), hashA, 'PHOTO bytes hash to the advertised hash');
  assert.ok(v.png.length <= 1536);
  assert.is(v.raw.attrs.from, 'show@room.localhost/Alice');
  // Asked again (another id): same bytes.
  const again = await vcardOf(b, 'show@room.localhost/Alice');
  assert.ok(again.png.equals(v.png));
  // And the HTTP URL serves the same bytes.
  const res = await fetch(`${ctx.srv.httpUrl}/avatars/${hashA}.png`);
  assert.is(res.status, 200);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(v.png));
});

t('a vCard answer for a nick with XML special characters names that occupant and keeps the id', async (ctx) => {
  const a = await anon(ctx);
  const b = await anon(ctx);
  const nick = `Tom & "Jerry's" <3`;
  const selfA = await join(a, 'show3', nick);
  await join(b, 'show3', 'Watcher');
  const v = await vcardOf(b, `show3@room.localhost/${nick}`);
  assert.is(v.raw.attrs.from, `show3@room.localhost/${nick}`);
  assert.is(v.raw.attrs.type, 'result');
  assert.is(sha1(v.png), hashIn(selfA));
  // An id with the same characters comes back unchanged (the client matches the answer by it).
  const id = `a&b"c'd<e>`;
  const raw = await b.iq(
    xml('iq', { type: 'get', id, to: `show3@room.localhost/${nick}` }, xml('vCard', { xmlns: 'vcard-temp' })),
    T,
  );
  assert.ok(raw.getChild('vCard', 'vcard-temp')?.getChild('PHOTO'), 'answered by id with the PHOTO');
});

t('an unknown occupant is item-not-found and a non-occupant is refused, as before', async (ctx) => {
  const a = await anon(ctx);
  await join(a, 'show2', 'Carol');
  const err = await a
    .iq(xml('iq', { type: 'get', to: 'show2@room.localhost/Nobody' }, xml('vCard', { xmlns: 'vcard-temp' })), T)
    .catch((e: { condition?: string }) => e);
  assert.is((err as { condition?: string }).condition, 'item-not-found');
  const outsider = await anon(ctx);
  const err2 = await outsider
    .iq(xml('iq', { type: 'get', to: 'show2@room.localhost/Carol' }, xml('vCard', { xmlns: 'vcard-temp' })), T)
    .catch((e: { condition?: string }) => e);
  assert.is((err2 as { condition?: string }).condition, 'not-acceptable');
});

t('an anonymous viewer asking its own vCard gets a PHOTO', async (ctx) => {
  const a = await anon(ctx);
  const bare = a.jid.split('/')[0];
  const v = await vcardOf(a, bare);
  assert.is(v.type, 'image/png');
  assert.ok(v.png.length > 0 && v.png.length <= 1536);
});

t('an anonymous viewer sees itself with the picture the room shows of it, drawn once', async (ctx) => {
  // ConverseJS shows a user its own vCard's picture for its own occupant and messages, and everyone else the one
  // of room/nick: both must be the same picture, in every room the viewer is in.
  const viewer = await anon(ctx);
  const other = await anon(ctx);
  const drawnBefore = ctx.srv.server.avatars.renders;
  const own = await vcardOf(viewer, viewer.jid.split('/')[0]);
  const hash = hashIn(await join(viewer, 'show5', 'Eve'));
  assert.is(sha1(own.png), hash, "the own vCard's PHOTO is the picture the room announces");
  await join(other, 'show5', 'Frank');
  const seen = await other.waitFor((s) => s.is('presence') && s.attrs.from === 'show5@room.localhost/Eve', T);
  assert.is(hashIn(seen), hash, 'others see the same hash');
  const asked = await vcardOf(other, 'show5@room.localhost/Eve');
  assert.ok(asked.png.equals(own.png), 'and get the same bytes from room/nick');
  assert.is(hashIn(await join(viewer, 'show6', 'Eve')), hash, 'the same picture in another room');
  // The viewer's picture and the other viewer's own one: nothing drawn twice.
  assert.is(ctx.srv.server.avatars.renders - drawnBefore, 2, 'one drawing per viewer');
});

t('the same occupant gets the same avatar after a nick change (seed: occupant-id)', async (ctx) => {
  const a = await anon(ctx);
  const before = hashIn(await join(a, 'show3', 'Dave'));
  assert.match(before ?? '', /^[0-9a-f]{40}$/);
  await a.send(xml('presence', { to: 'show3@room.localhost/Dave2' }));
  const after = await a.waitFor(
    (s) => s.is('presence') && s.attrs.from === 'show3@room.localhost/Dave2' && !s.attrs.type,
    T,
  );
  assert.is(hashIn(after), before);
});

t('a bot gets the bot avatar; a client advertising its own photo keeps it', async (ctx) => {
  const bot = await account(ctx, 'streambot');
  const botHash = hashIn(await join(bot, 'show4', 'Bot'));
  const human = await anon(ctx);
  const own = 'ab'.repeat(20);
  const p = await join(human, 'show4', 'Erin', [xml('x', { xmlns: UPDATE }, xml('photo', {}, own))]);
  assert.is(hashIn(p), own);
  assert.is(p.getChildren('x').filter((x: Stanza) => x.attrs.xmlns === UPDATE).length, 1);
  const other = await anon(ctx);
  const q = await join(other, 'show4', 'Frank');
  const botSeen = await other.waitFor((s) => s.is('presence') && s.attrs.from === 'show4@room.localhost/Bot', T);
  assert.is(hashIn(botSeen), botHash);
  assert.is.not(hashIn(q), botHash);
  const res = await fetch(`${ctx.srv.httpUrl}/avatars/${botHash}.png`);
  assert.is(res.status, 200);
});

t('a PeerTube user gets the provider avatar: computed at first, then the presence is republished once', async (ctx) => {
  const u = await account(ctx, 'peertube-user');
  const first = hashIn(await join(u, 'show5', 'Gina'));
  assert.ok(first);
  const updated = await u.waitFor(
    (s) => s.is('presence') && s.attrs.from === 'show5@room.localhost/Gina' && !s.attrs.type && hashIn(s) !== first,
    T,
    'presence with the provider avatar',
  );
  const hash = hashIn(updated)!;
  const res = await fetch(`${ctx.srv.httpUrl}/avatars/${hash}.png`);
  assert.is(res.status, 200);
  const png = Buffer.from(await res.arrayBuffer());
  assert.is(sha1(png), hash);
  // A second join finds it cached: the provider avatar from the first presence, no second provider call.
  const u2 = await account(ctx, 'peertube-user');
  const p2 = await join(u2, 'show6', 'Gina');
  assert.is(hashIn(p2), hash);
  assert.is(ctx.providerCalls.filter((j) => j === 'peertube-user@localhost').length, 1);
});

t.run();
