// End to end: @xmpp/client over WebSocket against createServer, the "must show" list of the MUC issue.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type Stanza, type TestClient } from '../helpers/xmpp-client.js';

const MUC = 'http://jabber.org/protocol/muc';
const USER = 'http://jabber.org/protocol/muc#user';
const ADMIN = 'http://jabber.org/protocol/muc#admin';
const OWNER = 'http://jabber.org/protocol/muc#owner';
const HOST = 'room.localhost';

let srv: TestServer;
const clients: TestClient[] = [];

async function user(name: string): Promise<TestClient> {
  const c = await connectClient({
    service: srv.wsUrl,
    domain: 'localhost',
    username: name,
    password: 'pw',
    resource: 'web',
  });
  clients.push(c);
  return c;
}
async function viewer(): Promise<TestClient> {
  const c = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  clients.push(c);
  return c;
}

const codes = (s: Stanza): string[] =>
  (s.getChild('x', USER)?.getChildren('status') ?? []).map((x: Stanza) => x.attrs.code);
const item = (s: Stanza): Stanza | undefined => s.getChild('x', USER)?.getChild('item');
const isSelf = (room: string, nick: string) => (s: Stanza) =>
  s.is('presence') && s.attrs.from === `${room}@${HOST}/${nick}` && !s.attrs.type && codes(s).includes('110');
const presenceFrom = (room: string, nick: string, type?: string) => (s: Stanza) =>
  s.is('presence') && s.attrs.from === `${room}@${HOST}/${nick}` && s.attrs.type === type;
const bodyIs = (text: string) => (s: Stanza) => s.is('message') && s.getChildText('body') === text;
const errCond = (s: Stanza) =>
  s
    .getChild('error')
    ?.children.find(
      (c: Stanza | string) =>
        typeof c !== 'string' && c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && c.name !== 'text',
    )?.name;

async function joinRoom(c: TestClient, room: string, nick: string): Promise<Stanza> {
  await c.send(xml('presence', { to: `${room}@${HOST}/${nick}` }, xml('x', { xmlns: MUC })));
  const self = await c.waitFor(isSelf(room, nick), 5000, `self-presence in ${room} as ${nick}`);
  await c.waitFor(
    (s) => s.is('message') && s.attrs.from?.startsWith(`${room}@${HOST}`) && !!s.getChild('subject'),
    5000,
    'subject',
  );
  return self;
}

function configure(c: TestClient, room: string, fields: Record<string, string | string[]>) {
  const x = xml(
    'x',
    { xmlns: 'jabber:x:data', type: 'submit' },
    xml('field', { var: 'FORM_TYPE' }, xml('value', {}, 'http://jabber.org/protocol/muc#roomconfig')),
    ...Object.entries(fields).map(([k, v]) =>
      xml('field', { var: k }, ...(Array.isArray(v) ? v : [v]).map((val) => xml('value', {}, val))),
    ),
  );
  return c.iq(xml('iq', { type: 'set', to: `${room}@${HOST}` }, xml('query', { xmlns: OWNER }, x)));
}

function admin(c: TestClient, room: string, attrs: Record<string, string>, reason?: string) {
  return c.iq(
    xml(
      'iq',
      { type: 'set', to: `${room}@${HOST}` },
      xml('query', { xmlns: ADMIN }, xml('item', attrs, reason ? xml('reason', {}, reason) : undefined)),
    ),
  );
}

test.before.each(async () => {
  srv = await startTestServer({ testMode: true });
});
test.after.each(async () => {
  for (const c of clients.splice(0)) await c.stop();
  await srv?.stop();
});

test('three occupants join and see each other with the right codes; messages carry stanza-id', async () => {
  const romeo = await user('romeo');
  const juliet = await user('juliet');
  const guest = await viewer();
  const rSelf = await joinRoom(romeo, 'garden', 'Romeo');
  assert.equal(codes(rSelf), ['201', '110']);
  assert.is(item(rSelf)?.attrs.affiliation, 'owner');
  assert.is(item(rSelf)?.attrs.role, 'moderator');
  const jSelf = await joinRoom(juliet, 'garden', 'Juliet');
  assert.equal(codes(jSelf), ['110']);
  assert.is(item(jSelf)?.attrs.role, 'participant');
  const romeoSeen = await juliet.waitFor(presenceFrom('garden', 'Romeo'));
  assert.is(item(romeoSeen)?.attrs.jid, undefined, 'participants do not see real JIDs');
  const julietSeen = await romeo.waitFor(presenceFrom('garden', 'Juliet'));
  assert.is(item(julietSeen)?.attrs.jid, juliet.jid, 'the moderator sees the real JID');
  await joinRoom(guest, 'garden', 'Guest');
  await guest.waitFor(presenceFrom('garden', 'Romeo'));
  await guest.waitFor(presenceFrom('garden', 'Juliet'));
  await romeo.waitFor(presenceFrom('garden', 'Guest'));
  await juliet.waitFor(presenceFrom('garden', 'Guest'));

  await juliet.send(
    xml('message', { to: `garden@${HOST}`, type: 'groupchat', id: 'j1' }, xml('body', {}, 'Here I am!')),
  );
  const got = await Promise.all([romeo, juliet, guest].map((c) => c.waitFor(bodyIs('Here I am!'))));
  const ids = got.map((m) => m.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id);
  assert.ok(ids[0]);
  assert.equal(ids, [ids[0], ids[0], ids[0]]);
  for (const m of got) {
    assert.is(m.attrs.from, `garden@${HOST}/Juliet`);
    assert.is(m.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.by, `garden@${HOST}`);
    assert.ok(m.getChild('occupant-id', 'urn:xmpp:occupant-id:0'));
  }
});

test('nick change (303) and nick conflict (409)', async () => {
  const romeo = await user('romeo');
  const juliet = await user('juliet');
  await joinRoom(romeo, 'r', 'Romeo');
  await joinRoom(juliet, 'r', 'Juliet');
  await juliet.send(xml('presence', { to: `r@${HOST}/Romeo` }, xml('x', { xmlns: MUC })));
  const conflict = await juliet.waitFor((s) => s.is('presence') && s.attrs.type === 'error');
  assert.is(errCond(conflict), 'conflict');
  await juliet.send(xml('presence', { to: `r@${HOST}/Jules` }));
  const gone = await romeo.waitFor(presenceFrom('r', 'Juliet', 'unavailable'));
  assert.equal(codes(gone), ['303']);
  assert.is(item(gone)?.attrs.nick, 'Jules');
  await romeo.waitFor(presenceFrom('r', 'Jules'));
  const own = await juliet.waitFor(presenceFrom('r', 'Juliet', 'unavailable'));
  assert.equal(codes(own), ['303', '110']);
  await juliet.waitFor(isSelf('r', 'Jules'));
});

test('an owner kicks and bans; the banned user cannot rejoin', async () => {
  const owner = await user('owner');
  const troll = await viewer();
  const other = await viewer();
  await joinRoom(owner, 'live', 'Owner');
  await joinRoom(troll, 'live', 'Troll');
  await joinRoom(other, 'live', 'Other');
  await admin(owner, 'live', { nick: 'Troll', role: 'none' }, 'calm down');
  const kicked = await troll.waitFor(presenceFrom('live', 'Troll', 'unavailable'));
  assert.equal(codes(kicked), ['307', '110']);
  assert.is(item(kicked)?.getChildText('reason'), 'calm down');
  assert.equal(codes(await other.waitFor(presenceFrom('live', 'Troll', 'unavailable'))), ['307']);
  troll.received.length = 0;
  other.received.length = 0;
  await joinRoom(troll, 'live', 'Troll');
  await admin(owner, 'live', { jid: troll.jid.split('/')[0], affiliation: 'outcast' }, 'spam');
  const banned = await troll.waitFor(presenceFrom('live', 'Troll', 'unavailable'));
  assert.equal(codes(banned), ['301', '110']);
  assert.equal(codes(await other.waitFor(presenceFrom('live', 'Troll', 'unavailable'))), ['301']);
  troll.received.length = 0;
  await troll.send(xml('presence', { to: `live@${HOST}/Again` }, xml('x', { xmlns: MUC })));
  const refused = await troll.waitFor((s) => s.is('presence') && s.attrs.type === 'error');
  assert.is(errCond(refused), 'forbidden');
});

test('voice revoked in a moderated room blocks messages with forbidden', async () => {
  const owner = await user('owner');
  const talker = await user('talker');
  await joinRoom(owner, 'mod', 'Owner');
  await configure(owner, 'mod', { 'muc#roomconfig_moderatedroom': '1' });
  const self = await joinRoom(talker, 'mod', 'Talker');
  assert.is(item(self)?.attrs.role, 'visitor', 'newcomers are visitors in a moderated room');
  await admin(owner, 'mod', { nick: 'Talker', role: 'participant' });
  await talker.waitFor((s) => isSelf('mod', 'Talker')(s) && item(s)?.attrs.role === 'participant');
  await talker.send(xml('message', { to: `mod@${HOST}`, type: 'groupchat' }, xml('body', {}, 'with voice')));
  await owner.waitFor(bodyIs('with voice'));
  await admin(owner, 'mod', { nick: 'Talker', role: 'visitor' }, 'quiet please');
  await talker.waitFor((s) => isSelf('mod', 'Talker')(s) && item(s)?.attrs.role === 'visitor');
  await talker.send(xml('message', { to: `mod@${HOST}`, type: 'groupchat', id: 'nv' }, xml('body', {}, 'no voice')));
  const err = await talker.waitFor((s) => s.is('message') && s.attrs.type === 'error' && s.attrs.id === 'nv');
  assert.is(errCond(err), 'forbidden');
  assert.is(err.getChild('error')?.attrs.type, 'auth');
  await new Promise((r) => setTimeout(r, 100));
  assert.not.ok(owner.received.some(bodyIs('no voice')));
});

test('config form round-trip', async () => {
  const owner = await user('owner');
  await joinRoom(owner, 'cfg', 'Owner');
  await configure(owner, 'cfg', {
    'muc#roomconfig_roomname': 'Stream chat',
    'muc#roomconfig_roomdesc': 'Live!',
    'muc#roomconfig_membersonly': '1',
    'muc#roomconfig_roomsecret': 's3cret',
    'muc#roomconfig_maxusers': '100',
    'muc#roomconfig_whois': 'anyone',
    'muc#roomconfig_changesubject': '1',
    'muc#roomconfig_allowpm': 'none',
    'muc#roomconfig_presencebroadcast': ['moderator'],
    'muc#roomconfig_historylength': '10',
    'muc#roomconfig_enablearchiving': '0',
    'muc#roomconfig_persistentroom': '1',
    'muc#roomconfig_publicroom': '0',
    'muc#roomconfig_moderatedroom': '1',
  });
  const res = await owner.iq(xml('iq', { type: 'get', to: `cfg@${HOST}` }, xml('query', { xmlns: OWNER })));
  const form = res.getChild('query', OWNER).getChild('x', 'jabber:x:data');
  const val = (v: string) =>
    form
      .getChildren('field')
      .find((f: Stanza) => f.attrs.var === v)
      ?.getChildren('value')
      .map((x: Stanza) => x.getText());
  assert.equal(val('muc#roomconfig_roomname'), ['Stream chat']);
  assert.equal(val('muc#roomconfig_roomdesc'), ['Live!']);
  assert.equal(val('muc#roomconfig_membersonly'), ['1']);
  assert.equal(val('muc#roomconfig_roomsecret'), ['s3cret']);
  assert.equal(val('muc#roomconfig_maxusers'), ['100']);
  assert.equal(val('muc#roomconfig_whois'), ['anyone']);
  assert.equal(val('muc#roomconfig_changesubject'), ['1']);
  assert.equal(val('muc#roomconfig_allowpm'), ['none']);
  assert.equal(val('muc#roomconfig_presencebroadcast'), ['moderator']);
  assert.equal(val('muc#roomconfig_historylength'), ['10']);
  assert.equal(val('muc#roomconfig_enablearchiving'), ['0']);
  assert.equal(val('muc#roomconfig_persistentroom'), ['1']);
  assert.equal(val('muc#roomconfig_publicroom'), ['0']);
  assert.equal(val('muc#roomconfig_moderatedroom'), ['1']);
  const info = (
    await owner.iq(
      xml('iq', { type: 'get', to: `cfg@${HOST}` }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
    )
  ).getChild('query');
  const feats = info.getChildren('feature').map((f: Stanza) => f.attrs.var);
  for (const f of [
    'muc_membersonly',
    'muc_passwordprotected',
    'muc_nonanonymous',
    'muc_persistent',
    'muc_hidden',
    'muc_moderated',
  ])
    assert.ok(feats.includes(f), f);
  assert.is(info.getChild('identity')?.attrs.name, 'Stream chat');
});

test('a persistent room keeps config and affiliations after a restart', async () => {
  const owner = await user('owner');
  await joinRoom(owner, 'keep', 'Owner');
  await configure(owner, 'keep', {
    'muc#roomconfig_persistentroom': '1',
    'muc#roomconfig_roomname': 'Kept room',
    'muc#roomconfig_moderatedroom': '1',
  });
  await admin(owner, 'keep', { jid: 'mod@localhost', affiliation: 'admin' });
  await admin(owner, 'keep', { jid: 'bad@localhost', affiliation: 'outcast' }, 'spam');
  for (const c of clients.splice(0)) await c.stop();
  const dataDir = srv.dataDir;
  await srv.stop(true);
  srv = await startTestServer({ testMode: true }, { dataDir });
  const mod = await user('mod');
  const self = await joinRoom(mod, 'keep', 'Mod');
  assert.not.ok(codes(self).includes('201'), 'room existed');
  assert.is(item(self)?.attrs.affiliation, 'admin');
  assert.is(item(self)?.attrs.role, 'moderator');
  const list = await mod.iq(
    xml(
      'iq',
      { type: 'get', to: `keep@${HOST}` },
      xml('query', { xmlns: ADMIN }, xml('item', { affiliation: 'outcast' })),
    ),
  );
  const it = list.getChild('query', ADMIN).getChild('item');
  assert.is(it?.attrs.jid, 'bad@localhost');
  assert.is(it?.getChildText('reason'), 'spam');
  const bad = await user('bad');
  await bad.send(xml('presence', { to: `keep@${HOST}/Bad` }, xml('x', { xmlns: MUC })));
  assert.is(errCond(await bad.waitFor((s) => s.is('presence') && s.attrs.type === 'error')), 'forbidden');
  const v = await viewer();
  const vs = await joinRoom(v, 'keep', 'Viewer');
  assert.is(item(vs)?.attrs.role, 'visitor', 'still moderated');
  const info = (
    await v.iq(
      xml('iq', { type: 'get', to: `keep@${HOST}` }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
    )
  ).getChild('query');
  assert.is(info.getChild('identity')?.attrs.name, 'Kept room');
});

test('retraction reaches all occupants (XEP-0425 v0 as livechat sends it, and v1)', async () => {
  const owner = await user('owner');
  const a = await viewer();
  const b = await viewer();
  await joinRoom(owner, 'ret', 'Owner');
  await joinRoom(a, 'ret', 'A');
  await joinRoom(b, 'ret', 'B');
  await a.send(xml('message', { to: `ret@${HOST}`, type: 'groupchat' }, xml('body', {}, 'spam spam')));
  const m = await owner.waitFor(bodyIs('spam spam'));
  const sid = m.getChild('stanza-id', 'urn:xmpp:sid:0').attrs.id;
  await owner.iq(
    xml(
      'iq',
      { type: 'set', to: `ret@${HOST}` },
      xml(
        'apply-to',
        { xmlns: 'urn:xmpp:fasten:0', id: sid },
        xml(
          'moderate',
          { xmlns: 'urn:xmpp:message-moderate:0' },
          xml('retract', { xmlns: 'urn:xmpp:message-retract:0' }),
          xml('reason', {}, 'spam'),
        ),
      ),
    ),
  );
  for (const c of [owner, a, b]) {
    const r = await c.waitFor((s) => s.is('message') && s.getChild('apply-to', 'urn:xmpp:fasten:0')?.attrs.id === sid);
    assert.is(r.getChild('retract', 'urn:xmpp:message-retract:1')?.attrs.id, sid);
    assert.is(
      r
        .getChild('apply-to', 'urn:xmpp:fasten:0')
        .getChild('moderated', 'urn:xmpp:message-moderate:0')
        .getChildText('reason'),
      'spam',
    );
  }
  await b.send(xml('message', { to: `ret@${HOST}`, type: 'groupchat' }, xml('body', {}, 'oops')));
  const m2 = await owner.waitFor(bodyIs('oops'));
  const sid2 = m2.getChild('stanza-id', 'urn:xmpp:sid:0').attrs.id;
  await owner.iq(
    xml(
      'iq',
      { type: 'set', to: `ret@${HOST}` },
      xml(
        'moderate',
        { xmlns: 'urn:xmpp:message-moderate:1', id: sid2 },
        xml('retract', { xmlns: 'urn:xmpp:message-retract:1' }),
      ),
    ),
  );
  for (const c of [owner, a, b])
    await c.waitFor((s) => s.is('message') && s.getChild('retract', 'urn:xmpp:message-retract:1')?.attrs.id === sid2);
});

test('limited presence broadcast: a participant does not see others join, a moderator does', async () => {
  const owner = await user('owner');
  await joinRoom(owner, 'stream', 'Owner');
  await configure(owner, 'stream', { 'muc#roomconfig_presencebroadcast': ['moderator'] });
  const v1 = await viewer();
  const v2 = await viewer();
  await joinRoom(v1, 'stream', 'V1');
  await v1.waitFor(presenceFrom('stream', 'Owner'), 2000, 'moderator presence');
  await joinRoom(v2, 'stream', 'V2');
  await owner.waitFor(presenceFrom('stream', 'V1'));
  await owner.waitFor(presenceFrom('stream', 'V2'));
  // a message sent after the joins is delivered after any presence would have been
  await v2.send(xml('message', { to: `stream@${HOST}`, type: 'groupchat' }, xml('body', {}, 'marker')));
  await v1.waitFor(bodyIs('marker'));
  assert.not.ok(v1.received.some(presenceFrom('stream', 'V2')), 'V1 did not see V2 join');
  assert.not.ok(v2.received.some(presenceFrom('stream', 'V1')), 'V2 did not get V1 in the roster');
});

test.run();
