// Room configuration, live-stream presence broadcast, persistence, creation policy and disco.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pjoin } from 'node:path';
import { harness, join, codes, item, errorCondition, HOST, tick, submitConfig } from './helpers.js';

const OWNER = 'http://jabber.org/protocol/muc#owner';

function fieldValues(form: any, v: string): string[] {
  const f = form.getChildren('field').find((x: any) => x.attrs.var === v);
  return f ? f.getChildren('value').map((x: any) => x.getText()) : [];
}

test('config form round-trip and 104/172 announcements', async () => {
  const h = await harness();
  const o = h.session('o@localhost/1');
  const p = h.session('p@localhost/1');
  join(o, 'r', 'O');
  join(p, 'r', 'P');
  o.take();
  p.take();
  o.out(`<iq type="get" id="g" to="r@${HOST}"><query xmlns="${OWNER}"/></iq>`);
  await tick();
  const form = o.take()[0].getChild('query', OWNER)!.getChild('x', 'jabber:x:data')!;
  assert.is(form.attrs.type, 'form');
  assert.equal(fieldValues(form, 'FORM_TYPE'), ['http://jabber.org/protocol/muc#roomconfig']);
  assert.equal(fieldValues(form, 'muc#roomconfig_historylength'), ['20']);
  assert.equal(fieldValues(form, 'muc#roomconfig_presencebroadcast'), ['moderator', 'participant', 'visitor']);
  for (const v of [
    'muc#roomconfig_persistentroom',
    'muc#roomconfig_publicroom',
    'muc#roomconfig_moderatedroom',
    'muc#roomconfig_membersonly',
    'muc#roomconfig_roomsecret',
    'muc#roomconfig_maxusers',
    'muc#roomconfig_whois',
    'muc#roomconfig_changesubject',
    'muc#roomconfig_allowpm',
    'muc#roomconfig_enablearchiving',
    'muc#roomconfig_roomname',
    'muc#roomconfig_roomdesc',
  ]) {
    assert.ok(
      form.getChildren('field').some((f) => f.attrs.var === v),
      v,
    );
  }
  submitConfig(o, 'r', {
    'muc#roomconfig_roomname': 'Live',
    'muc#roomconfig_roomdesc': 'A stream',
    'muc#roomconfig_whois': 'anyone',
    'muc#roomconfig_historylength': '5',
    'muc#roomconfig_maxusers': '50',
    'muc#roomconfig_presencebroadcast': ['moderator'],
  });
  await tick();
  const og = o.take();
  assert.is(og[0].attrs.type, 'result');
  assert.equal(codes(og[1]).sort(), ['104', '172']);
  assert.equal(codes(p.take()[0]).sort(), ['104', '172']);
  o.out(`<iq type="get" id="g2" to="r@${HOST}"><query xmlns="${OWNER}"/></iq>`);
  await tick();
  const f2 = o.take()[0].getChild('query', OWNER)!.getChild('x', 'jabber:x:data')!;
  assert.equal(fieldValues(f2, 'muc#roomconfig_roomname'), ['Live']);
  assert.equal(fieldValues(f2, 'muc#roomconfig_whois'), ['anyone']);
  assert.equal(fieldValues(f2, 'muc#roomconfig_historylength'), ['5']);
  assert.equal(fieldValues(f2, 'muc#roomconfig_maxusers'), ['50']);
  assert.equal(fieldValues(f2, 'muc#roomconfig_presencebroadcast'), ['moderator']);
  p.out(`<iq type="get" id="g3" to="r@${HOST}"><query xmlns="${OWNER}"/></iq>`);
  await tick();
  assert.is(errorCondition(p.take()[0]), 'forbidden');
  // non-anonymous now: a new joiner gets 100 and sees jids
  const q = h.session('q@localhost/1');
  join(q, 'r', 'Q');
  const qg = q.take();
  assert.ok(codes(qg.find((s) => codes(s).includes('110'))!).includes('100'));
});

test('limited presence broadcast: participants do not see each other join, moderators do', async () => {
  const h = await harness();
  const mod = h.session('mod@localhost/1');
  join(mod, 'live', 'Mod');
  submitConfig(mod, 'live', { 'muc#roomconfig_presencebroadcast': 'moderator' });
  await tick();
  mod.take();
  const v1 = h.session('v1@anon.localhost/a');
  const v2 = h.session('v2@anon.localhost/b');
  join(v1, 'live', 'V1');
  const v1got = v1.take();
  assert.equal(
    v1got.filter((s) => s.name === 'presence').map((s) => s.attrs.from),
    [`live@${HOST}/Mod`, `live@${HOST}/V1`],
  );
  join(v2, 'live', 'V2');
  const v2got = v2.take();
  assert.equal(
    v2got.filter((s) => s.name === 'presence').map((s) => s.attrs.from),
    [`live@${HOST}/Mod`, `live@${HOST}/V2`],
    'V2 sees only moderator and self',
  );
  assert.is(v1.take().length, 0, 'V1 does not see V2 join');
  const modGot = mod.take();
  assert.equal(
    modGot.map((s) => s.attrs.from),
    [`live@${HOST}/V1`, `live@${HOST}/V2`],
    'moderator sees both',
  );
  // occupant count still visible in disco
  v1.out(`<iq type="get" id="d" to="live@${HOST}"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`);
  await tick();
  const info = v1.take()[0].getChild('query')!;
  const form = info.getChild('x', 'jabber:x:data')!;
  assert.equal(fieldValues(form, 'muc#roominfo_occupants'), ['3']);
  // leaving is equally quiet
  v2.out(`<presence type="unavailable" to="live@${HOST}/V2"/>`);
  assert.is(v1.take().length, 0);
  assert.is(mod.take().length, 1);
  // messages still reach everyone
  v1.out(`<message type="groupchat" to="live@${HOST}"><body>hello</body></message>`);
  assert.is(mod.take().length, 1);
});

test('persistent room keeps config, affiliations and subject across restart', async () => {
  const dir = await mkdtemp(pjoin(tmpdir(), 'muc-test-'));
  try {
    const h = await harness({ deps: { dataDir: dir } });
    const o = h.session('o@localhost/1');
    join(o, 'keep', 'O');
    submitConfig(o, 'keep', {
      'muc#roomconfig_persistentroom': '1',
      'muc#roomconfig_roomname': 'Kept',
      'muc#roomconfig_membersonly': '1',
    });
    await tick();
    o.out(
      `<iq type="set" id="a" to="keep@${HOST}"><query xmlns="http://jabber.org/protocol/muc#admin"><item affiliation="member" jid="m@localhost"/><item affiliation="admin" jid="ad@localhost"/></query></iq>`,
    );
    o.out(`<message type="groupchat" to="keep@${HOST}"><subject>Topic!</subject></message>`);
    await tick();
    o.out(`<presence type="unavailable" to="keep@${HOST}/O"/>`);
    await h.muc.stop();
    assert.equal(await readdir(pjoin(dir, 'muc')), ['keep.json']);
    // temporary room is not stored
    const h2 = await harness({ deps: { dataDir: dir } });
    const room = h2.muc.getRoom('keep');
    assert.ok(room, 'room is back');
    assert.is(room!.config.name, 'Kept');
    assert.is(room!.config.membersOnly, true);
    assert.is(room!.affiliationOf('m@localhost'), 'member');
    assert.is(room!.affiliationOf('ad@localhost'), 'admin');
    assert.is(room!.affiliationOf('o@localhost'), 'owner');
    const stranger = h2.session('x@localhost/1');
    join(stranger, 'keep', 'X');
    assert.is(errorCondition(stranger.take()[0]), 'registration-required');
    const m = h2.session('m@localhost/1');
    join(m, 'keep', 'M');
    const got = m.take();
    assert.ok(!codes(got[0]).includes('201'));
    assert.is(got[got.length - 1].getChildText('subject'), 'Topic!');
    // destroying removes the file
    const o2 = h2.session('o@localhost/2');
    o2.out(`<iq type="set" id="d" to="keep@${HOST}"><query xmlns="${OWNER}"><destroy/></query></iq>`);
    await tick();
    await h2.muc.flush();
    assert.equal(await readdir(pjoin(dir, 'muc')), []);
    await h2.muc.stop();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('password, max users, members-only errors', async () => {
  const h = await harness();
  const o = h.session('o@localhost/1');
  join(o, 'r', 'O');
  submitConfig(o, 'r', { 'muc#roomconfig_roomsecret': 'pw', 'muc#roomconfig_maxusers': '2' });
  await tick();
  const a = h.session('a@localhost/1');
  join(a, 'r', 'A');
  const e = a.take()[0];
  assert.is(errorCondition(e), 'not-authorized');
  assert.is(e.getChild('error')?.attrs.by, `r@${HOST}`);
  join(a, 'r', 'A', '<password>pw</password>');
  assert.ok(a.take().some((s) => codes(s).includes('110')));
  const b = h.session('b@localhost/1');
  join(b, 'r', 'B', '<password>pw</password>');
  assert.is(errorCondition(b.take()[0]), 'service-unavailable');
});

test('creation policy: accounts and callback', async () => {
  const h = await harness({ config: { creation: 'accounts' }, deps: { isAccount: (b) => b.endsWith('@localhost') } });
  const anon = h.session('v@anon.localhost/1');
  join(anon, 'new', 'V');
  assert.is(errorCondition(anon.take()[0]), 'not-allowed');
  const acc = h.session('u@localhost/1');
  join(acc, 'new', 'U');
  assert.ok(codes(acc.take()[0]).includes('201'));

  const seen: string[] = [];
  const h2 = await harness({
    config: { creation: 'callback' },
    deps: {
      onCreateRoom: async (roomJid, creator) => {
        seen.push(`${roomJid} ${creator}`);
        await new Promise((r) => setTimeout(r, 5));
        if (!roomJid.startsWith('video-')) return false;
        return { config: { name: 'My video', persistent: false }, affiliations: { 'streamer@localhost': 'owner' } };
      },
    },
  });
  const viewer = h2.session('v@anon.localhost/1');
  join(viewer, 'nope', 'V');
  await new Promise((r) => setTimeout(r, 20));
  assert.is(errorCondition(viewer.take()[0]), 'not-allowed');
  join(viewer, 'video-1', 'V');
  viewer.out(`<message type="groupchat" to="video-1@${HOST}"><body>queued</body></message>`);
  await new Promise((r) => setTimeout(r, 20));
  const got = viewer.take();
  const self = got.find((s) => codes(s).includes('110'))!;
  assert.is(item(self)?.attrs.affiliation, 'none', 'viewer does not become owner');
  assert.ok(
    got.some((s) => s.getChildText('body') === 'queued'),
    'stanza sent while creating is processed after',
  );
  assert.is(h2.muc.getRoom('video-1')!.affiliationOf('streamer@localhost'), 'owner');
  assert.is(h2.muc.getRoom('video-1')!.config.name, 'My video');
});

test('service disco and public room listing', async () => {
  const h = await harness();
  const o = h.session('o@localhost/1');
  join(o, 'pub', 'O');
  join(o, 'hid', 'O');
  submitConfig(o, 'hid', { 'muc#roomconfig_publicroom': '0' });
  await tick();
  o.take();
  o.out(`<iq type="get" id="i" to="${HOST}"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`);
  o.out(`<iq type="get" id="j" to="${HOST}"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`);
  const [info, items] = o.take();
  assert.is(info.getChild('query')!.getChild('identity')?.attrs.category, 'conference');
  assert.ok(
    info
      .getChild('query')!
      .getChildren('feature')
      .some((f) => f.attrs.var === 'http://jabber.org/protocol/muc'),
  );
  assert.equal(
    items
      .getChild('query')!
      .getChildren('item')
      .map((i) => i.attrs.jid),
    [`pub@${HOST}`],
  );
  o.out(`<iq type="get" id="k" to="pub@${HOST}"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`);
  await tick();
  const ri = o.take()[0].getChild('query')!;
  const feats = ri.getChildren('feature').map((f) => f.attrs.var);
  for (const f of [
    'http://jabber.org/protocol/muc',
    'muc_public',
    'muc_temporary',
    'muc_open',
    'muc_unmoderated',
    'muc_semianonymous',
    'muc_unsecured',
    'urn:xmpp:occupant-id:0',
    'urn:xmpp:sid:0',
    'urn:xmpp:message-moderate:0',
  ])
    assert.ok(feats.includes(f), f);
});

test('chat states are dropped in large rooms only; subject permission', async () => {
  const h = await harness({ config: { chatStateDropThreshold: 3 } });
  const a = h.session('a@localhost/1');
  const b = h.session('b@localhost/1');
  join(a, 'r', 'A');
  join(b, 'r', 'B');
  a.take();
  b.take();
  const cs = `<message type="groupchat" to="r@${HOST}"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`;
  b.out(cs);
  assert.is(a.take().length, 1);
  const c = h.session('c@localhost/1');
  join(c, 'r', 'C');
  a.take();
  b.take();
  c.take();
  b.out(cs);
  assert.is(a.take().length, 0);
  b.out(`<message type="groupchat" to="r@${HOST}"><subject>mine</subject></message>`);
  assert.is(errorCondition(b.take()[0]), 'forbidden');
  b.out(`<message type="groupchat" to="r@${HOST}"><subject>Greetings</subject><body>hi</body></message>`);
  assert.is(a.take()[0].getChildText('body'), 'hi', 'subject with body is a normal message (issue 667)');
});

test.run();
