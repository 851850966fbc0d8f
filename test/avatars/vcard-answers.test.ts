// An occupant's vCard answer is prepared once and reused for every viewer who asks, and its avatar is drawn once for
// both the presence's photo hash and the PNG. Driven by @xmpp/client over WebSocket: what each requester gets (the
// PHOTO the hash names, byte for byte the vCard it always was, its own id and address, two at once), that nothing is
// drawn again for the vCard of an occupant whose hash went out (the service's render count), that the answer follows
// a nick change and a new provider avatar, and that the prepared answers are bounded and dropped with the occupant.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type Stanza, type TestClient } from '../helpers/xmpp-client.js';

const MUC = 'http://jabber.org/protocol/muc';
const UPDATE = 'vcard-temp:x:update';
const T = 20_000;
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');
const hashIn = (p: Stanza): string | undefined => p.getChild('x', UPDATE)?.getChildText('photo') ?? undefined;

async function join(c: TestClient, full: string): Promise<Stanza> {
  await c.send(xml('presence', { to: full }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '0' }))));
  return c.waitFor((s) => s.is('presence') && s.attrs.from === full && !s.attrs.type, T, `own presence as ${full}`);
}

/** Sends a vCard request with this id and waits for the answer carrying it. */
async function askVcard(c: TestClient, to: string, id: string): Promise<Stanza> {
  await c.send(xml('iq', { type: 'get', id, to }, xml('vCard', { xmlns: 'vcard-temp' })));
  return c.waitFor((s) => s.is('iq') && s.attrs.id === id, T, `answer ${id}`);
}
function photoOf(answer: Stanza): Buffer {
  const binval = answer.getChild('vCard', 'vcard-temp')?.getChild('PHOTO')?.getChildText('BINVAL');
  assert.ok(binval, `a PHOTO in ${answer.toString().slice(0, 200)}`);
  return Buffer.from(binval!, 'base64');
}

interface Ctx {
  srv: TestServer;
  clients: TestClient[];
  gate: () => void;
}
async function anon(ctx: Ctx): Promise<TestClient> {
  const c = await connectClient({ service: ctx.srv.wsUrl, domain: 'anon.localhost' });
  ctx.clients.push(c);
  return c;
}

const t = suite<Ctx>('vCard answers prepared once');
t.before(async (ctx) => {
  ctx.clients = [];
  const opened = new Promise<void>((r) => (ctx.gate = r));
  const photo = await sharp({ create: { width: 80, height: 80, channels: 3, background: '#3a86ff' } })
    .png()
    .toBuffer();
  ctx.srv = await startTestServer(
    // Nothing drawn ahead: these tests count the drawings made on demand (drawn-ahead.test.ts covers the default).
    { testMode: true, avatars: { set: 'cats', drawAhead: 0 } },
    {
      options: {
        // The provider answers for gated-user only once the test opens the gate: its computed avatar comes first.
        avatarProvider: async (jid) => (jid === 'gated-user@localhost' ? opened.then(() => photo) : undefined),
      },
    },
  );
});
t.after.each(async (ctx) => {
  for (const c of ctx.clients.splice(0)) await c.stop();
});
t.after(async (ctx) => {
  await ctx.srv?.stop();
});

t('two viewers asking at once get the PHOTO the hash names, each with its own id and address', async (ctx) => {
  const star = await anon(ctx);
  const a = await anon(ctx);
  const b = await anon(ctx);
  const start = ctx.srv.server.avatars.renders;
  const hash = hashIn(await join(star, 'room1@room.localhost/Star'))!;
  assert.match(hash, /^[0-9a-f]{40}$/);
  await join(a, 'room1@room.localhost/A');
  await join(b, 'room1@room.localhost/B');
  const seen = await a.waitFor((s) => s.is('presence') && s.attrs.from === 'room1@room.localhost/Star', T);
  assert.is(hashIn(seen), hash);
  const drawn = ctx.srv.server.avatars.renders;
  assert.is(drawn, start + 3, "one avatar drawn per occupant for its presence's hash");

  const ids = ['same', `b&"<'>`];
  const [ra, rb] = await Promise.all([
    askVcard(a, 'room1@room.localhost/Star', ids[0]),
    askVcard(b, 'room1@room.localhost/Star', ids[1]),
  ]);
  const again = await askVcard(a, 'room1@room.localhost/Star', 'again');
  for (const [r, c, id] of [
    [ra, a, ids[0]],
    [rb, b, ids[1]],
    [again, a, 'again'],
  ] as const) {
    assert.is(r.attrs.type, 'result');
    assert.is(r.attrs.id, id);
    assert.is(r.attrs.to, c.jid);
    assert.is(r.attrs.from, 'room1@room.localhost/Star');
    const png = photoOf(r);
    assert.is(sha1(png), hash, "the PHOTO is the picture the presence's hash names");
    // The vCard itself, byte for byte what it always was.
    const vcard = r.getChild('vCard', 'vcard-temp')!.toString();
    assert.is(
      vcard,
      `<vCard xmlns="vcard-temp"><PHOTO><TYPE>image/png</TYPE><BINVAL>${png.toString('base64')}</BINVAL></PHOTO></vCard>`,
    );
  }
  assert.is(
    ctx.srv.server.avatars.renders,
    drawn,
    'the avatar drawn for the hash serves the vCards: nothing drawn again',
  );
  const res = await fetch(`${ctx.srv.httpUrl}/avatars/${hash}.png`);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(photoOf(ra)), 'the HTTP URL serves the same bytes');
});

t('the answer follows a nick change, and is dropped when the occupant leaves', async (ctx) => {
  const star = await anon(ctx);
  const a = await anon(ctx);
  const hash = hashIn(await join(star, 'room2@room.localhost/Old'))!;
  await join(a, 'room2@room.localhost/Watcher');
  const before = ctx.srv.server.avatars.cacheEntries().answers;
  const r1 = await askVcard(a, 'room2@room.localhost/Old', 'n1');
  assert.is(r1.attrs.from, 'room2@room.localhost/Old');
  assert.is(ctx.srv.server.avatars.cacheEntries().answers, before + 1, 'one prepared answer for the occupant');

  await star.send(xml('presence', { to: 'room2@room.localhost/New' }));
  await a.waitFor((s) => s.is('presence') && s.attrs.from === 'room2@room.localhost/New' && !s.attrs.type, T);
  const r2 = await askVcard(a, 'room2@room.localhost/New', 'n2');
  assert.is(r2.attrs.from, 'room2@room.localhost/New', 'answered from the new nick');
  assert.is(sha1(photoOf(r2)), hash, 'the same avatar (seeded by occupant-id)');
  assert.is(ctx.srv.server.avatars.cacheEntries().answers, before + 1, 'still one answer for the occupant');

  await star.send(xml('presence', { to: 'room2@room.localhost/New', type: 'unavailable' }));
  await a.waitFor(
    (s) => s.is('presence') && s.attrs.from === 'room2@room.localhost/New' && s.attrs.type === 'unavailable',
    T,
  );
  assert.is(ctx.srv.server.avatars.cacheEntries().answers, before, 'dropped when the occupant left');
});

t("the answer follows the occupant's avatar when the provider's image arrives", async (ctx) => {
  const user = await connectClient({
    service: ctx.srv.wsUrl,
    domain: 'localhost',
    username: 'gated-user',
    password: 'pw',
    resource: 'web',
  });
  ctx.clients.push(user);
  const a = await anon(ctx);
  const computed = hashIn(await join(user, 'room3@room.localhost/Gus'))!;
  await join(a, 'room3@room.localhost/Watcher');
  assert.is(sha1(photoOf(await askVcard(a, 'room3@room.localhost/Gus', 'p1'))), computed);

  ctx.gate();
  const updated = await a.waitFor(
    (s) => s.is('presence') && s.attrs.from === 'room3@room.localhost/Gus' && !s.attrs.type && hashIn(s) !== computed,
    T,
    "Gus's presence with the provider's avatar",
  );
  const provided = hashIn(updated)!;
  assert.match(provided, /^[0-9a-f]{40}$/);
  assert.is(
    sha1(photoOf(await askVcard(a, 'room3@room.localhost/Gus', 'p2'))),
    provided,
    'the new avatar, not the cached answer',
  );
});

t.run();

// With seed 'nick' a nick change is a new avatar: the prepared answer must not outlive it.
const n = suite<{ srv: TestServer; clients: TestClient[] }>('vCard answers, avatars seeded by nick');
n.before(async (ctx) => {
  ctx.clients = [];
  ctx.srv = await startTestServer({ avatars: { set: 'cats', seed: 'nick' } });
});
n.after(async (ctx) => {
  for (const c of ctx.clients) await c.stop();
  await ctx.srv?.stop();
});

n('after a nick change the vCard shows the new nick’s avatar', async (ctx) => {
  const star = await connectClient({ service: ctx.srv.wsUrl, domain: 'anon.localhost' });
  const a = await connectClient({ service: ctx.srv.wsUrl, domain: 'anon.localhost' });
  ctx.clients.push(star, a);
  const first = hashIn(await join(star, 'nicks@room.localhost/Ann'))!;
  await join(a, 'nicks@room.localhost/Watcher');
  assert.is(sha1(photoOf(await askVcard(a, 'nicks@room.localhost/Ann', 'k1'))), first);
  await star.send(xml('presence', { to: 'nicks@room.localhost/Anna' }));
  const renamed = await a.waitFor(
    (s) => s.is('presence') && s.attrs.from === 'nicks@room.localhost/Anna' && !s.attrs.type,
    T,
  );
  const second = hashIn(renamed)!;
  assert.is.not(second, first, 'a new nick, a new avatar');
  const r = await askVcard(a, 'nicks@room.localhost/Anna', 'k2');
  assert.is(r.attrs.from, 'nicks@room.localhost/Anna');
  assert.is(sha1(photoOf(r)), second);
});

n.run();

// The prepared answers are as many as avatars.cacheSize at most, however many occupants are asked about.
const b = suite<{ srv: TestServer; clients: TestClient[] }>('vCard answers are bounded');
const CACHE = 10; // the smallest cacheSize the config accepts
b.before(async (ctx) => {
  ctx.clients = [];
  ctx.srv = await startTestServer({ avatars: { set: 'cats', cacheSize: CACHE } });
});
b.after(async (ctx) => {
  for (const c of ctx.clients) await c.stop();
  await ctx.srv?.stop();
});

b('asking about more occupants than cacheSize keeps at most cacheSize answers', async (ctx) => {
  const watcher = await connectClient({ service: ctx.srv.wsUrl, domain: 'anon.localhost' });
  ctx.clients.push(watcher);
  await join(watcher, 'many@room.localhost/Watcher');
  for (let i = 0; i < CACHE + 5; i++) {
    const c = await connectClient({ service: ctx.srv.wsUrl, domain: 'anon.localhost' });
    ctx.clients.push(c);
    const hash = hashIn(await join(c, `many@room.localhost/v${i}`));
    const r = await askVcard(watcher, `many@room.localhost/v${i}`, `m${i}`);
    assert.is(sha1(photoOf(r)), hash);
  }
  const sizes = ctx.srv.server.avatars.cacheEntries();
  assert.ok(sizes.answers > 0 && sizes.answers <= CACHE, `answers: ${sizes.answers}`);
  assert.ok(sizes.fresh <= CACHE, `fresh: ${sizes.fresh}`);
});

b.run();

// Through the WebSocket edge process a spliced answer crosses the pipe as a template (head and tail) and a JID: each
// answer's head holds its own id, so consecutive answers of one occupant must not reuse the previous head.
const e = suite<{ srv: TestServer; clients: TestClient[] }>('vCard answers through the WebSocket edge');
e.before(async (ctx) => {
  ctx.clients = [];
  ctx.srv = await startTestServer({ testMode: true, websocket: { edge: 'process' }, avatars: { set: 'cats' } });
});
e.after(async (ctx) => {
  for (const c of ctx.clients) await c.stop();
  await ctx.srv?.stop();
});

e('two viewers asking at once each get their own id and address', async (ctx) => {
  const [star, a, b] = await Promise.all(
    [0, 1, 2].map(() => connectClient({ service: ctx.srv.wsUrl, domain: 'anon.localhost' })),
  );
  ctx.clients.push(star!, a!, b!);
  const hash = hashIn(await join(star!, 'edge@room.localhost/Star'))!;
  await join(a!, 'edge@room.localhost/A');
  await join(b!, 'edge@room.localhost/B');
  const asked = [
    [a!, 'e1'],
    [b!, 'e2'],
    [a!, 'e3'],
    [b!, 'e4'],
  ] as const;
  const answers = await Promise.all(asked.map(([c, id]) => askVcard(c, 'edge@room.localhost/Star', id)));
  answers.forEach((r, i) => {
    assert.is(r.attrs.id, asked[i]![1]);
    assert.is(r.attrs.to, asked[i]![0].jid);
    assert.is(sha1(photoOf(r)), hash);
  });
});

e.run();
