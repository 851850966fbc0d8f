// Switching from livechat, end to end: a real Prosody configured like livechat's (internal storage, MUC + mod_muc_mam)
// gets a room from @xmpp/client users (config, affiliations, subject, messages); it is stopped; `import-livechat`
// reads its data folder; our server starts on the result and the same users find the room, its config,
// affiliations, subject and the archive (MAM) with Prosody's own times, order, message ids, archive ids (stanza-ids:
// MAM paging from an id given by Prosody, moderation of a message by its Prosody id) and occupant ids.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLivechatProsody, type LivechatProsody } from './livechat-prosody.js';
import { connectClient, xml, type Stanza, type TestClient } from '../helpers/xmpp-client.js';
import { startTestServer } from '../helpers/server.js';
import { runCli } from '../helpers/cli.js';
import { enterRoom } from '../helpers/muc-join.js';

const ROOM_NODE = '9c9de5e8-0a1b-4cbd-9d7c-7f9b7a1c2f11';
const ROOM = `${ROOM_NODE}@room.localhost`;
const CHANNEL_ROOM = 'channel.3@room.localhost';
const MUC = 'http://jabber.org/protocol/muc';
const MAM = 'urn:xmpp:mam:2';
const BODIES = ['hello "everyone" é ✓', 'line one\nline two', 'bob here', '<b>not markup</b> & co', 'last one'];

// adduser asks for a password on standard input.
const cli = (args: string[]) => runCli(args, { input: 'pw\n' }).done;

const join_ = (c: TestClient, nick: string) => enterRoom(c, `${ROOM}/${nick}`);

interface Archived {
  body: string;
  stamp: string;
  id: string;
  from: string;
  occupantId?: string;
  archiveId: string;
}

/** The whole room archive over MAM, in the order the server returns it. */
async function mamAll(c: TestClient, queryid: string, after?: string): Promise<Archived[]> {
  const before = c.received.length;
  const res = await c.iq(
    xml(
      'iq',
      { type: 'set', to: ROOM },
      xml(
        'query',
        { xmlns: MAM, queryid },
        xml(
          'set',
          { xmlns: 'http://jabber.org/protocol/rsm' },
          xml('max', {}, '100'),
          after ? xml('after', {}, after) : undefined,
        ),
      ),
    ),
    15000,
  );
  const fin = res.getChild('fin', MAM);
  assert.ok(fin, 'MAM answers with <fin/>');
  assert.is(fin!.attrs.complete, 'true', 'everything in one page');
  return c.received.slice(before).flatMap((m) => {
    const r = m.getChild('result', MAM);
    if (!r || r.attrs.queryid !== queryid) return [];
    const fwd = r.getChild('forwarded', 'urn:xmpp:forward:0')!;
    const msg = fwd.getChild('message')!;
    const body = msg.getChildText('body');
    if (body === null) return [];
    return [
      {
        body,
        stamp: fwd.getChild('delay', 'urn:xmpp:delay')!.attrs.stamp,
        id: msg.attrs.id,
        from: msg.attrs.from,
        occupantId: msg.getChild('occupant-id', 'urn:xmpp:occupant-id:0')?.attrs.id,
        archiveId: r.attrs.id,
      },
    ];
  });
}

function configValues(form: Stanza): Record<string, string[]> {
  const x = form.getChild('query')!.getChild('x', 'jabber:x:data')!;
  return Object.fromEntries(
    x.getChildren('field').map((f: Stanza) => [f.attrs.var, f.getChildren('value').map((v: Stanza) => v.text())]),
  );
}

async function affiliationList(c: TestClient, affiliation: string): Promise<string[]> {
  const r = await c.iq(
    xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: `${MUC}#admin` }, xml('item', { affiliation }))),
  );
  return r
    .getChild('query')!
    .getChildren('item')
    .map((i: Stanza) => i.attrs.jid)
    .sort();
}

let prosody: LivechatProsody | undefined;
let work: string;

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'import-e2e-'));
});
test.after(async () => {
  await prosody?.stop();
  await prosody?.cleanup();
  await rm(work, { recursive: true, force: true });
});

test('a livechat Prosody room survives the switch: config, affiliations, subject and archive', async () => {
  // ---- on Prosody, as livechat runs it
  prosody = await startLivechatProsody();
  await prosody.register('alice', 'pw');
  await prosody.register('bob', 'pw');
  const a = await connectClient({
    service: prosody.websocketUrl,
    domain: 'localhost',
    username: 'alice',
    password: 'pw',
  });
  const b = await connectClient({
    service: prosody.websocketUrl,
    domain: 'localhost',
    username: 'bob',
    password: 'pw',
  });
  await join_(a, 'Alice');
  await a.iq(
    xml(
      'iq',
      { type: 'set', to: ROOM },
      xml(
        'query',
        { xmlns: `${MUC}#owner` },
        xml(
          'x',
          { xmlns: 'jabber:x:data', type: 'submit' },
          xml('field', { var: 'FORM_TYPE' }, xml('value', {}, `${MUC}#roomconfig`)),
          xml('field', { var: 'muc#roomconfig_roomname' }, xml('value', {}, 'Live: the launch')),
          xml('field', { var: 'muc#roomconfig_roomdesc' }, xml('value', {}, 'Chat of the launch live')),
          xml('field', { var: 'muc#roomconfig_persistentroom' }, xml('value', {}, '1')),
          xml('field', { var: 'muc#roomconfig_whois' }, xml('value', {}, 'anyone')),
          xml('field', { var: 'muc#roomconfig_moderatedroom' }, xml('value', {}, '1')),
        ),
      ),
    ),
  );
  // Prosody applies one item per request.
  for (const [jid, affiliation] of [
    ['bob@localhost', 'admin'],
    ['carol@localhost', 'member'],
    ['eve@localhost', 'outcast'],
  ]) {
    await a.iq(
      xml('iq', { type: 'set', to: ROOM }, xml('query', { xmlns: `${MUC}#admin` }, xml('item', { jid, affiliation }))),
    );
  }
  await join_(b, 'Bob');
  await a.send(xml('message', { to: ROOM, type: 'groupchat', id: 'subj' }, xml('subject', {}, 'Launch day')));
  for (const [i, body] of BODIES.entries()) {
    const c = i === 2 ? b : a;
    await c.send(xml('message', { to: ROOM, type: 'groupchat', id: `m${i}` }, xml('body', {}, body)));
    await c.waitFor((s) => s.is('message') && s.attrs.id === `m${i}`, 10000, `reflection of m${i}`);
  }
  // A per-channel room (livechat's `channel.<id>`): a dot in the room name, which Prosody encodes in file names.
  await a.send(xml('presence', { to: `${CHANNEL_ROOM}/Alice` }, xml('x', { xmlns: MUC })));
  await a.waitFor((s) => s.is('presence') && s.attrs.from === `${CHANNEL_ROOM}/Alice`, 15000, 'channel room join');
  await a.send(xml('message', { to: CHANNEL_ROOM, type: 'groupchat', id: 'c0' }, xml('body', {}, 'channel chat')));
  await a.waitFor((s) => s.is('message') && s.attrs.id === 'c0', 10000, 'channel message');
  const onProsody = await mamAll(a, 'before');
  assert.equal(
    onProsody.map((m) => m.body),
    BODIES,
    'Prosody archived the five messages',
  );
  assert.ok(
    onProsody.every((m) => m.occupantId),
    'Prosody stamps occupant ids',
  );
  // The stanza-ids clients got live are Prosody's archive ids (what they page from and refer to).
  const liveIds = BODIES.map(
    (_, i) =>
      a.received.find((s) => s.is('message') && s.attrs.id === `m${i}`)?.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs
        .id,
  );
  assert.equal(
    liveIds,
    onProsody.map((m) => m.archiveId),
    'live stanza-ids are the archive ids',
  );
  await a.stop();
  await b.stop();
  await prosody.stop();

  // ---- the switch
  const data = join(work, 'ours');
  const imp = await cli(['import-livechat', '--from', prosody.dataDir, '--data', data]);
  assert.is(imp.code, 0, imp.err);
  assert.match(imp.out, /imported 2 room\(s\), 6 message\(s\)/);
  for (const u of ['alice', 'bob']) assert.is((await cli(['adduser', u, '--data', data])).code, 0);

  // ---- on our server
  const ours = await startTestServer({ archive: { expiry: 'never' } }, { dataDir: data });
  try {
    const a2 = await connectClient({ service: ours.wsUrl, domain: 'localhost', username: 'alice', password: 'pw' });
    const info = await a2.iq(
      xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
    );
    assert.is(info.getChild('query')!.getChild('identity')!.attrs.name, 'Live: the launch');
    const features = info
      .getChild('query')!
      .getChildren('feature')
      .map((f: Stanza) => f.attrs.var);
    for (const f of ['muc_persistent', 'muc_moderated', 'muc_nonanonymous', 'muc_hidden', 'urn:xmpp:mam:2'])
      assert.ok(features.includes(f), `disco has ${f}`);

    const self = await join_(a2, 'Alice');
    assert.is(self.getChild('x', `${MUC}#user`)!.getChild('item')!.attrs.affiliation, 'owner');
    assert.is(
      self.getChild('occupant-id', 'urn:xmpp:occupant-id:0')?.attrs.id,
      onProsody[0].occupantId,
      'Alice keeps the occupant id she had on Prosody',
    );
    const subject = await a2.waitFor(
      (s) => s.is('message') && s.getChild('subject') !== undefined,
      10000,
      'the subject',
    );
    assert.is(subject.getChildText('subject'), 'Launch day');
    assert.is(subject.attrs.from, `${ROOM}/Alice`);

    const form = configValues(
      await a2.iq(xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: `${MUC}#owner` }))),
    );
    assert.equal(form['muc#roomconfig_roomname'], ['Live: the launch']);
    assert.equal(form['muc#roomconfig_roomdesc'], ['Chat of the launch live']);
    assert.equal(form['muc#roomconfig_whois'], ['anyone']);
    assert.ok(['1', 'true'].includes(form['muc#roomconfig_moderatedroom']?.[0] ?? ''), 'moderated');
    assert.ok(
      ['0', 'false'].includes(form['muc#roomconfig_publicroom']?.[0] ?? ''),
      'hidden, as livechat creates rooms',
    );

    assert.equal(await affiliationList(a2, 'owner'), ['alice@localhost']);
    assert.equal(await affiliationList(a2, 'admin'), ['bob@localhost']);
    assert.equal(await affiliationList(a2, 'member'), ['carol@localhost']);
    assert.equal(await affiliationList(a2, 'outcast'), ['eve@localhost']);

    const onOurs = await mamAll(a2, 'after');
    assert.equal(
      onOurs.map((m) => m.body),
      onProsody.map((m) => m.body),
      'same messages, same order',
    );
    assert.equal(
      onOurs.map((m) => m.stamp),
      onProsody.map((m) => m.stamp),
      "Prosody's timestamps",
    );
    assert.equal(
      onOurs.map((m) => m.id),
      BODIES.map((_, i) => `m${i}`),
      'message ids kept',
    );
    assert.equal(
      onOurs.map((m) => m.occupantId),
      onProsody.map((m) => m.occupantId),
      'occupant ids kept',
    );
    assert.equal(
      onOurs.map((m) => m.from),
      onProsody.map((m) => m.from),
    );
    assert.equal(
      onOurs.map((m) => m.archiveId),
      onProsody.map((m) => m.archiveId),
      "Prosody's archive ids kept",
    );
    // A client paging on from an id it got from Prosody goes on where it was.
    const paged = await mamAll(a2, 'paged', onProsody[2].archiveId);
    assert.equal(
      paged.map((m) => m.body),
      BODIES.slice(3),
      'MAM after a Prosody id',
    );

    const ch = await a2.iq(
      xml('iq', { type: 'set', to: CHANNEL_ROOM }, xml('query', { xmlns: MAM, queryid: 'ch' })),
      15000,
    );
    assert.ok(ch.getChild('fin', MAM));
    const chMsgs = a2.received.filter((m) => m.getChild('result', MAM)?.attrs.queryid === 'ch');
    assert.equal(
      chMsgs.map((m) =>
        m
          .getChild('result', MAM)!
          .getChild('forwarded', 'urn:xmpp:forward:0')!
          .getChild('message')!
          .getChildText('body'),
      ),
      ['channel chat'],
    );

    // Bob, admin on Prosody, is admin here and sees the history on join.
    const b2 = await connectClient({ service: ours.wsUrl, domain: 'localhost', username: 'bob', password: 'pw' });
    const bself = await join_(b2, 'Bob');
    assert.is(bself.getChild('x', `${MUC}#user`)!.getChild('item')!.attrs.affiliation, 'admin');
    assert.is(
      bself.getChild('occupant-id', 'urn:xmpp:occupant-id:0')?.attrs.id,
      onProsody[2].occupantId,
      'so does Bob',
    );
    const last = await b2.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'last one',
      10000,
      'history on join',
    );
    assert.is(
      Date.parse(last.getChild('delay', 'urn:xmpp:delay')!.attrs.stamp),
      Date.parse(onProsody[4].stamp),
      'original time in history',
    );
    assert.is(
      last.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id,
      onProsody[4].archiveId,
      'history carries the Prosody stanza-id',
    );

    // A message after the switch gets an id of ours; paging from the last Prosody id reaches it.
    await a2.send(xml('message', { to: ROOM, type: 'groupchat', id: 'new1' }, xml('body', {}, 'after the switch')));
    const echo = await a2.waitFor((s) => s.is('message') && s.attrs.id === 'new1', 10000, 'echo after the switch');
    const newId = echo.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id as string;
    assert.ok(newId && !onProsody.some((m) => m.archiveId === newId), 'a new id');
    const tail = await mamAll(a2, 'tail', onProsody[4].archiveId);
    assert.equal(
      tail.map((m) => [m.body, m.archiveId]),
      [['after the switch', newId]],
    );

    // Moderation by a Prosody stanza-id (XEP-0425): the owner removes Bob's old message; everyone is told.
    await a2.iq(
      xml(
        'iq',
        { type: 'set', to: ROOM },
        xml(
          'moderate',
          { xmlns: 'urn:xmpp:message-moderate:1', id: onProsody[2].archiveId },
          xml('retract', { xmlns: 'urn:xmpp:message-retract:1' }),
          xml('reason', {}, 'old spoiler'),
        ),
      ),
      10000,
    );
    const told = await b2.waitFor(
      (s) =>
        s.is('message') && s.getChild('retract', 'urn:xmpp:message-retract:1')?.attrs.id === onProsody[2].archiveId,
      10000,
      'retraction announcement naming the Prosody id',
    );
    assert.ok(
      told.getChild('retract', 'urn:xmpp:message-retract:1')!.getChild('moderated', 'urn:xmpp:message-moderate:1'),
      'moderated',
    );
    const afterMod = await mamAll(a2, 'aftermod');
    assert.not.ok(
      afterMod.some((m) => m.body === 'bob here'),
      'the moderated message is gone from the archive',
    );
    await a2.stop();
    await b2.stop();
  } finally {
    await ours.stop(true);
  }

  // ---- running the import again adds nothing
  const again = await cli(['import-livechat', '--from', prosody.dataDir, '--data', data]);
  assert.is(again.code, 0, again.err);
  assert.match(again.out, /imported 0 room\(s\), 0 message\(s\).*2 skipped/);
});

test('the import fails clearly on a folder without Prosody rooms', async () => {
  const r = await cli(['import-livechat', '--from', join(work, 'nothing-here'), '--data', join(work, 'x')]);
  assert.is(r.code, 1);
  assert.match(r.err, /cannot read the Prosody data folder: ENOENT/);
  const empty = join(work, 'empty');
  await mkdir(empty);
  const e = await cli(['import-livechat', '--from', empty, '--data', join(work, 'x')]);
  assert.is(e.code, 1);
  assert.match(e.err, /no Prosody MUC rooms found/);
  assert.not.match(e.out, /imported/);
  assert.is(
    await stat(join(work, 'x', 'livechat-import.json')).then(
      () => true,
      () => false,
    ),
    false,
    'nothing recorded',
  );
  const u = await cli(['import-livechat', '--data', join(work, 'x')]);
  assert.is(u.code, 2);
  assert.match(u.err, /needs --from/);
});

test.run();
