// Anonymous addresses made ahead with their avatars drawn in idle time (src/avatars/drawn-ahead.ts): the stock fills
// only while the server is idle, each address is handed out once, and viewers logging in with @xmpp/client take
// them, so their own vCard and their occupant's picture cost no drawing while they wait.
import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { DrawnAhead } from '../../src/avatars/drawn-ahead.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';
import { connectClient, xml, type Stanza, type TestClient } from '../helpers/xmpp-client.js';

const T = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The stock's state, looked at every 10 ms for up to 5 s. */
const stockUntil = (what: string, ok: () => boolean) => until(what, ok, 5000, 10);

function stock(size: number, stormPerSecond = Infinity) {
  const adopted: Array<[string, string]> = [];
  let n = 0;
  const d = new DrawnAhead<string>({
    size,
    newLocal: () => `v${n++}`,
    draw: (local) => `picture of ${local}`,
    adopt: (local, drawing) => adopted.push([local, drawing]),
    intervalMs: 5,
    stormPerSecond,
  });
  return { d, adopted };
}

test('fills up to its size in idle time, hands each address out once with its own drawing, and refills', async () => {
  const { d, adopted } = stock(5);
  d.start();
  await stockUntil('a full stock', () => d.full);
  assert.is(d.count, 5);
  assert.is(d.made, 5, 'drew more than its size');
  const taken = [d.take(), d.take(), d.take(), d.take(), d.take()];
  assert.is(new Set(taken).size, 5, `an address handed out twice: ${taken.join(' ')}`);
  assert.equal(
    adopted,
    taken.map((l) => [l, `picture of ${l}`]),
    'each taken address should bring its own drawing to the caches',
  );
  assert.is(d.take(), undefined, 'an empty stock must say so (the login makes a fresh address)');
  await stockUntil('the stock refilled', () => d.full);
  assert.is(d.made, 10);
  d.stop();
  d.take();
  await sleep(50);
  assert.is(d.made, 10, 'drew after stop()');
});

test('draws nothing while the event loop is busy, and fills once it is idle', async () => {
  const { d } = stock(50);
  d.start();
  // Busy for ~300 ms, in slices that let the stock's timer run between them.
  const end = Date.now() + 300;
  while (Date.now() < end) {
    const slice = Date.now() + 20;
    while (Date.now() < slice);
    await new Promise((r) => setImmediate(r));
  }
  assert.is(d.made, 0, 'drew while the server was busy');
  await stockUntil('a full stock once idle', () => d.full);
  d.stop();
});

test('draws nothing while a storm of logins takes addresses, and refills once it stops', async () => {
  const { d } = stock(40, 30);
  d.start();
  await stockUntil('a full stock', () => d.full);
  // Five logins every 20 ms for 120 ms, on an otherwise idle loop (a storm's logins, between its clients' round
  // trips): well past 30 a second even on a loaded machine that stretches the pauses.
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j < 5; j++) assert.ok(d.take(), 'the stock ran out');
    await sleep(20);
  }
  assert.is(d.made, 40, 'drew while a storm of logins was arriving');
  assert.is(d.count, 10);
  // The storm's last viewers are still joining for a while after their logins: the stock leaves them that time.
  await sleep(800);
  assert.is(d.made, 40, "drew in the storm's tail, within 0.8 s of its last login");
  await stockUntil('the stock refilled once the logins stopped', () => d.full);
  assert.is(d.made, 70);
  d.stop();
});

test('a trickle of logins does not keep the stock from refilling', async () => {
  const { d } = stock(10, 30);
  d.start();
  await stockUntil('a full stock', () => d.full);
  // A login every 150 ms (under 7 a second) for 1.5 s: the stock draws again between them, not only afterwards.
  for (let i = 0; i < 10; i++) {
    assert.ok(d.take(), 'the stock ran out');
    await sleep(150);
  }
  assert.ok(d.made >= 18, `drew ${d.made - 10} of the 10 taken during a trickle of logins`);
  d.stop();
});

const MUC = 'http://jabber.org/protocol/muc';
const UPDATE = 'vcard-temp:x:update';
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');
const hashIn = (p: Stanza): string | undefined => p.getChild('x', UPDATE)?.getChildText('photo') ?? undefined;

interface Ctx {
  srv: TestServer;
  clients: TestClient[];
}
const t = suite<Ctx>('anonymous viewers take addresses drawn ahead');
t.before(async (ctx) => {
  ctx.clients = [];
  ctx.srv = await startTestServer({ testMode: true, avatars: { set: 'cats', drawAhead: 6 } });
});
t.after(async (ctx) => {
  for (const c of ctx.clients) await c.stop();
  await ctx.srv?.stop();
});

t(
  'their own vCard and their occupants show the picture drawn ahead, and nothing is drawn while they wait',
  async (ctx) => {
    const { avatars, drawnAhead } = ctx.srv.server;
    assert.ok(drawnAhead, 'the default server should draw anonymous avatars ahead');
    await stockUntil('the server drew its stock', () => drawnAhead!.full);
    const onDemand = () => avatars.renders - drawnAhead!.made;
    const before = onDemand();
    const viewers: TestClient[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await connectClient({ service: ctx.srv.wsUrl, domain: 'anon.localhost' });
      ctx.clients.push(c);
      viewers.push(c);
    }
    const bares = viewers.map((v) => v.jid.split('/')[0]!);
    assert.is(new Set(bares).size, 3, 'two viewers got the same address');
    for (const b of bares) assert.match(b, /^[a-z0-9]{12}@anon\.localhost$/);
    const hashes: string[] = [];
    for (const [i, v] of viewers.entries()) {
      const res = await v.iq(xml('iq', { type: 'get', to: bares[i] }, xml('vCard', { xmlns: 'vcard-temp' })), T);
      const photo = res.getChild('vCard', 'vcard-temp')?.getChild('PHOTO');
      assert.ok(photo, `own vCard without a PHOTO: ${res.toString().slice(0, 200)}`);
      const own = Buffer.from(photo!.getChildText('BINVAL')!, 'base64');
      const full = `drawn@room.localhost/viewer${i}`;
      await v.send(xml('presence', { to: full }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '0' }))));
      const self = await v.waitFor(
        (s) => s.is('presence') && s.attrs.from === full && !s.attrs.type,
        T,
        'own presence',
      );
      assert.is(hashIn(self), sha1(own), "the room should show the viewer's own vCard picture");
      hashes.push(sha1(own));
    }
    assert.is(new Set(hashes).size, 3, 'viewers should get pictures of their own');
    assert.is(onDemand() - before, 0, 'a picture was drawn while a viewer waited');
    // Each picture is the one its address always gets: drawing it again gives the same bytes.
    for (const [i, b] of bares.entries()) assert.is(sha1(avatars.drawAhead(b)!.avatar.png), hashes[i]);
  },
);

test.run();
t.run();
