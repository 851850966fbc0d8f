// MAM on rooms over a real client (@xmpp/client, WebSocket) against the server with its durable archive:
// paging through 500 messages that span several segment files, time ranges, the owner-only `with` filter and
// search, real JIDs per the whois setting, metadata, disco, no-store hints and muc#roomconfig_enablearchiving.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  HOST,
  MAM,
  configure,
  errorCondition,
  joinRoom,
  mam,
  mamAll,
  say,
  segmentFiles,
  sleep,
  stopAll,
  user,
  viewer,
  xml,
  type TestClient,
} from './helpers.js';

const test = suite('archive e2e: MAM paging and filters');

let srv: TestServer;
const clients: TestClient[] = [];
let owner: TestClient;
let bob: TestClient;
let guest: TestClient;
const ids: string[] = [];
const bodies = Array.from({ length: 500 }, (_, i) => `msg ${String(i).padStart(3, '0')}`);
let t1 = 0;
let t2 = 0;

test.before(async () => {
  srv = await startTestServer({
    testMode: true,
    webchat: { enabled: false },
    archive: { segmentMessages: 100, hotTail: 50, expiry: 'never' },
  });
  owner = await user(srv.wsUrl, 'owner');
  bob = await user(srv.wsUrl, 'bob');
  guest = await viewer(srv.wsUrl);
  clients.push(owner, bob, guest);
  await joinRoom(owner, 'big', 'Owner');
  await joinRoom(bob, 'big', 'Bob');
  await joinRoom(guest, 'big', 'Guest');
  // 500 messages: 200 by Owner, then 100 by Bob between t1 and t2, then 200 by Owner.
  ids.push(...(await say(owner, 'big', bodies.slice(0, 200))));
  await sleep(30);
  t1 = Date.now();
  await sleep(30);
  ids.push(...(await say(bob, 'big', bodies.slice(200, 300))));
  await sleep(30);
  t2 = Date.now();
  await sleep(30);
  ids.push(...(await say(owner, 'big', bodies.slice(300, 500))));
});

test.after(async () => {
  await stopAll(clients);
  await srv?.stop();
});

test('the 500 messages are in several segment files on disk', async () => {
  assert.is(ids.length, 500);
  assert.ok(ids.every(Boolean), 'every reflection carries a stanza-id');
  const segs = await segmentFiles(srv.dataDir, 'big');
  assert.ok(segs.length >= 5, `expected >= 5 segments, got ${segs.join(', ')}`);
});

test('a viewer pages forward through all 500 in order, 50 at a time, with RSM counts and indexes', async () => {
  const seen: string[] = [];
  let after: string | undefined;
  let pages = 0;
  for (;;) {
    const p = await mam(guest, 'big', { max: 50, after });
    pages++;
    assert.is(p.count, '500');
    assert.is(p.firstIndex, String(seen.length));
    assert.is(p.items.length, 50);
    assert.is(p.first, p.items[0].id);
    assert.is(p.last, p.items[49].id);
    seen.push(...p.items.map((i) => i.body!));
    if (p.complete) break;
    after = p.last;
    assert.ok(pages < 20);
  }
  assert.is(pages, 10);
  assert.equal(seen, bodies);
});

test('a viewer pages backward from the end (RSM before), newest page first', async () => {
  const pagesSeen: string[][] = [];
  let before = '';
  for (;;) {
    const p = await mam(guest, 'big', { max: 75, before });
    pagesSeen.push(p.items.map((i) => i.body!));
    if (p.complete) break;
    before = p.first!;
    assert.ok(pagesSeen.length < 20);
  }
  assert.is(pagesSeen.length, 7);
  assert.equal(pagesSeen[0], bodies.slice(425));
  assert.equal(pagesSeen[6], bodies.slice(0, 50));
  assert.equal(pagesSeen.slice().reverse().flat(), bodies);
});

test('flip-page returns a backward page newest first; RSM index jumps into the middle', async () => {
  const flipped = await mam(guest, 'big', { max: 10, before: '', flip: true });
  assert.equal(
    flipped.items.map((i) => i.body),
    bodies.slice(490).reverse(),
  );
  const mid = await mam(guest, 'big', { max: 5, index: 250 });
  assert.equal(
    mid.items.map((i) => i.body),
    bodies.slice(250, 255),
  );
  assert.is(mid.firstIndex, '250');
});

test('results are forwarded with delay, the archived stanza-id, the occupant JID and the original body', async () => {
  const p = await mam(guest, 'big', { max: 3, after: ids[199] });
  assert.equal(
    p.items.map((i) => i.id),
    ids.slice(200, 203),
  );
  const first = p.items[0];
  assert.is(first.from, `big@${HOST}/Bob`);
  assert.is(first.message.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id, ids[200]);
  assert.is(first.message.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.by, `big@${HOST}`);
  assert.ok(Date.parse(first.stamp) >= t1 && Date.parse(first.stamp) <= t2, 'delay stamp is the send time');
});

test('before-id / after-id and ids form fields', async () => {
  const p = await mam(guest, 'big', { fields: { 'after-id': ids[10], 'before-id': ids[15] } });
  assert.equal(
    p.items.map((i) => i.body),
    bodies.slice(11, 15),
  );
  assert.ok(p.complete);
});

test('time range: start and end select exactly the messages sent in between', async () => {
  const iso = (t: number) => new Date(t).toISOString();
  const range = await mamAll(guest, 'big', 100, { start: iso(t1), end: iso(t2) });
  assert.equal(
    range.map((i) => i.body),
    bodies.slice(200, 300),
  );
  const since = await mamAll(guest, 'big', 100, { start: iso(t2) });
  assert.equal(
    since.map((i) => i.body),
    bodies.slice(300),
  );
  const until = await mam(guest, 'big', { max: 1000, fields: { end: iso(t1) } });
  assert.is(until.items.length, 100, 'the server caps a page at maxPage');
  assert.not.ok(until.complete);
  assert.equal(
    until.items.map((i) => i.body),
    bodies.slice(0, 100),
  );
});

test('with: an occupant JID filters for everyone; a real JID or occupant-id only for owners', async () => {
  const byNick = await mamAll(guest, 'big', 100, { with: `big@${HOST}/Bob` });
  assert.equal(
    byNick.map((i) => i.body),
    bodies.slice(200, 300),
  );
  try {
    await mam(guest, 'big', { fields: { with: 'bob@localhost' } });
    assert.unreachable('a viewer must not filter by real JID');
  } catch (err) {
    assert.is(errorCondition(err), 'forbidden');
  }
  const byJid = await mamAll(owner, 'big', 100, { with: 'bob@localhost' });
  assert.equal(
    byJid.map((i) => i.body),
    bodies.slice(200, 300),
  );
  const bobOccupantId = byJid[0].message.getChild('occupant-id', 'urn:xmpp:occupant-id:0')?.attrs.id;
  assert.ok(bobOccupantId, 'archived messages carry occupant-id');
  const byOid = await mamAll(owner, 'big', 100, { '{urn:xmpp:occupant-id:0}occupant-id': bobOccupantId });
  assert.is(byOid.length, 100);
  // livechat's archive search (x-search): owners only, results like a MAM query.
  const search = await mam(owner, 'big', {
    ns: 'urn:xmpp:mam:2#x-search',
    fields: { from: 'bob@localhost' },
    max: 100,
  });
  assert.equal(
    search.items.map((i) => i.body),
    bodies.slice(200, 300),
  );
  try {
    await mam(bob, 'big', { ns: 'urn:xmpp:mam:2#x-search', fields: { from: 'owner@localhost' } });
    assert.unreachable('search is for owners and admins');
  } catch (err) {
    assert.is(errorCondition(err), 'forbidden');
  }
});

test('real JIDs appear only to readers the whois setting allows', async () => {
  const asGuest = await mam(guest, 'big', { max: 1 });
  assert.is(asGuest.items[0].jid, undefined);
  const asOwner = await mam(owner, 'big', { max: 1 });
  assert.is(asOwner.items[0].jid, 'owner@localhost');
  await configure(owner, 'big', { 'muc#roomconfig_whois': 'anyone' });
  const open = await mam(guest, 'big', { max: 1 });
  assert.is(open.items[0].jid, 'owner@localhost');
  await configure(owner, 'big', { 'muc#roomconfig_whois': 'moderators' });
});

test('archive metadata gives the first and last message', async () => {
  const res = await guest.iq(xml('iq', { type: 'get', to: `big@${HOST}` }, xml('metadata', { xmlns: MAM })));
  const md = res.getChild('metadata', MAM);
  assert.is(md.getChild('start').attrs.id, ids[0]);
  assert.is(md.getChild('end').attrs.id, ids[499]);
});

test('disco advertises MAM on archived rooms; a <no-store/> message is relayed but not archived', async () => {
  const info = await guest.iq(
    xml('iq', { type: 'get', to: `big@${HOST}` }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
  );
  const features = info
    .getChild('query')
    .getChildren('feature')
    .map((f: { attrs: { var: string } }) => f.attrs.var);
  assert.ok(features.includes(MAM));
  assert.ok(features.includes('urn:xmpp:mam:2#extended'));
  await say(bob, 'big', ['off the record'], () => [xml('no-store', { xmlns: 'urn:xmpp:hints' })]);
  await say(bob, 'big', ['on the record']);
  const last = await mam(guest, 'big', { max: 2, before: '' });
  assert.equal(
    last.items.map((i) => i.body),
    ['msg 499', 'on the record'],
  );
});

test('muc#roomconfig_enablearchiving off: no MAM feature, queries refused, history on join still works', async () => {
  await joinRoom(owner, 'quiet', 'Owner');
  const res = await configure(owner, 'quiet', { 'muc#roomconfig_enablearchiving': '0' });
  assert.is(res.attrs.type, 'result');
  await say(owner, 'quiet', ['not archived']);
  const info = await guest.iq(
    xml('iq', { type: 'get', to: `quiet@${HOST}` }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
  );
  const features = info
    .getChild('query')
    .getChildren('feature')
    .map((f: { attrs: { var: string } }) => f.attrs.var);
  assert.not.ok(features.includes(MAM));
  try {
    await mam(guest, 'quiet', {});
    assert.unreachable('no archive to query');
  } catch (err) {
    assert.is(errorCondition(err), 'service-unavailable');
  }
  const history = await joinRoom(guest, 'quiet', 'Guest');
  assert.equal(
    history.map((m) => m.getChildText('body')),
    ['not archived'],
  );
  assert.equal(await segmentFiles(srv.dataDir, 'quiet'), []);
});

test.run();
