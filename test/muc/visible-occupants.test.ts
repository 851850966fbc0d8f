// Visible occupants (@xmpp/client over WebSocket): above a low threshold, quiet viewers are seen by moderators only,
// are announced just before their first message and withdrawn after the speaker timeout; the viewer counter runs;
// a small room is plain MUC; the owner switches the mode. The last test replays every viewer's stream through the
// occupant-list rules XEP-0045 clients such as ConverseJS apply and checks no live message comes from an unseen nick.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { validateMuc } from '../../src/muc/config.js';
import {
  Clients,
  HOST,
  USER,
  codes,
  configure,
  joinRoom,
  noneAfterRoundTrip,
  say,
  setAffiliation,
  xml,
  type Stanza,
  type TestClient,
} from '../moderation/room-client.js';

const COUNT_NS = 'urn:livechat-xmpp:muc-occupant-count:0';
const MODE = 'muc#roomconfig_x_livechat_presence_mode';
let srv: TestServer;
const clients = new Clients(() => srv);
// Threshold 2: the owner and one more see everyone; later plain viewers are quiet. Speakers fade after 2 s.
test.before.each(async () => {
  srv = await startTestServer({ testMode: true, muc: { visibleOccupants: { threshold: 2, speakerTimeout: 2 } } });
});
test.after.each(async () => {
  await clients.stopAll();
  await srv?.stop();
});

const from = (room: string, nick: string) => `${room}@${HOST}/${nick}`;
const available = (room: string, nick: string) => (s: Stanza) =>
  s.is('presence') && s.attrs.from === from(room, nick) && !s.attrs.type;
const unavailable = (room: string, nick: string) => (s: Stanza) =>
  s.is('presence') && s.attrs.from === from(room, nick) && s.attrs.type === 'unavailable';
const presencesFrom = (c: TestClient, room: string) =>
  new Set(
    c.received
      .filter((s) => s.is('presence') && s.attrs.from?.startsWith(`${room}@${HOST}/`))
      .map((s) => s.attrs.from.split('/')[1]),
  );
const bodyFrom = (room: string, nick: string, text: string) => (s: Stanza) =>
  s.is('message') && s.attrs.from === from(room, nick) && s.getChildText('body') === text;

/** Owner (moderator), Alice (member), then viewers V1..Vn who join quiet. */
async function bigRoom(
  room: string,
  viewers: number,
): Promise<{ owner: TestClient; alice: TestClient; v: TestClient[] }> {
  const owner = await clients.user('owner');
  await joinRoom(owner, room, 'Owner');
  await setAffiliation(owner, room, 'alice@localhost', 'member');
  const alice = await clients.user('alice');
  await joinRoom(alice, room, 'Alice');
  const v: TestClient[] = [];
  for (let i = 1; i <= viewers; i++) {
    const c = await clients.viewer();
    await joinRoom(c, room, `V${i}`);
    v.push(c);
  }
  return { owner, alice, v };
}

test('below the threshold everybody sees everybody, as plain MUC', async () => {
  const a = await clients.viewer();
  await joinRoom(a, 'small', 'A');
  const b = await clients.viewer();
  await joinRoom(b, 'small', 'B');
  assert.ok(b.received.some(available('small', 'A')), 'the joiner sees the one already there');
  await a.waitFor(available('small', 'B'), 5000, 'B announced to A');
  await b.stop();
  await a.waitFor(unavailable('small', 'B'), 5000, 'B leaving announced to A');
  assert.not.ok(
    a.received.some((s) => !!s.getChild('occupants', COUNT_NS)),
    'no counter in a small room',
  );
});

test('above it a viewer sees moderators, members and itself; moderators see all; nick change and leave reach moderators only', async () => {
  const { owner, alice, v } = await bigRoom('live', 3);
  const [v1, v2, v3] = v;
  assert.equal(
    [...presencesFrom(v3, 'live')].sort(),
    ['Alice', 'Owner', 'V3'],
    'the joiner gets the visible set and itself',
  );
  assert.equal(
    [...presencesFrom(v1, 'live')].sort(),
    ['Alice', 'Owner', 'V1'],
    'quiet joiners are not announced to viewers',
  );
  await owner.waitFor(available('live', 'V3'), 5000, 'moderator sees every join');
  assert.ok(['V1', 'V2', 'V3'].every((n) => presencesFrom(owner, 'live').has(n)));
  assert.not.ok(presencesFrom(alice, 'live').has('V1'), 'a member who is not moderator does not see quiet viewers');

  // Nick change of a quiet viewer: itself and the moderator.
  await v2.send(xml('presence', { to: from('live', 'V2bis') }));
  await v2.waitFor(
    (s) => unavailable('live', 'V2')(s) && codes(s).includes('303') && codes(s).includes('110'),
    5000,
    'own 303',
  );
  await owner.waitFor((s) => unavailable('live', 'V2')(s) && codes(s).includes('303'), 5000, 'moderator gets the 303');
  await owner.waitFor(available('live', 'V2bis'), 5000, 'moderator gets the new nick');
  // Leave of a quiet viewer.
  await v1.send(xml('presence', { to: from('live', 'V1'), type: 'unavailable' }));
  await owner.waitFor(unavailable('live', 'V1'), 5000, 'moderator sees the leave');
  await noneAfterRoundTrip(
    v3,
    (s) => s.is('presence') && /\/(V1|V2|V2bis)$/.test(s.attrs.from ?? ''),
    'presence of another quiet viewer',
  );
  await noneAfterRoundTrip(
    alice,
    (s) => s.is('presence') && /\/(V1|V2|V2bis)$/.test(s.attrs.from ?? ''),
    'presence of a quiet viewer at the member',
  );
});

test('a first message is preceded by the presence at every viewer; silence withdraws it', async () => {
  const { owner, alice, v } = await bigRoom('talk', 3);
  const [v1, v2, v3] = v;
  await say(v1, 'talk', 'hello');
  for (const c of [v2, v3, alice]) {
    const msg = await c.waitFor(bodyFrom('talk', 'V1', 'hello'), 5000, 'message');
    const pres = c.received.findIndex(available('talk', 'V1'));
    assert.ok(pres >= 0 && pres < c.received.indexOf(msg), 'presence before the message');
  }
  await owner.waitFor(bodyFrom('talk', 'V1', 'hello'), 5000, 'moderator gets the message');
  assert.is(
    owner.received.filter(available('talk', 'V1')).length,
    1,
    'the moderator already knew V1: no second presence',
  );
  // A viewer joining while V1 is a recent speaker sees it.
  const v4 = await clients.viewer();
  await joinRoom(v4, 'talk', 'V4');
  assert.ok(presencesFrom(v4, 'talk').has('V1'), 'recent speaker in the roster');
  assert.not.ok(presencesFrom(v4, 'talk').has('V2'), 'silent viewer not in the roster');
  // A second message does not repeat the presence.
  await say(v1, 'talk', 'again');
  await v2.waitFor(bodyFrom('talk', 'V1', 'again'), 5000, 'second message');
  assert.is(v2.received.filter(available('talk', 'V1')).length, 1);
  // After speakerTimeout (2 s) of silence: unavailable to viewers, nothing to the moderator.
  for (const c of [v2, v3, v4, alice]) await c.waitFor(unavailable('talk', 'V1'), 10000, 'speaker withdrawn');
  await noneAfterRoundTrip(owner, unavailable('talk', 'V1'), 'unavailable of V1 at the moderator');
  // Speaking again announces it again.
  await say(v1, 'talk', 'back');
  const back = await v2.waitFor(bodyFrom('talk', 'V1', 'back'), 5000, 'third message');
  const lastPres = v2.received
    .map((s, i) => [s, i] as const)
    .filter(([s]) => s.is('presence') && s.attrs.from === from('talk', 'V1'))
    .pop()!;
  assert.ok(!lastPres[0].attrs.type && lastPres[1] < v2.received.indexOf(back), 'announced again before the message');
});

test('kick of a quiet viewer reaches itself and moderators; private messages to its nick work', async () => {
  const { owner, alice, v } = await bigRoom('mod', 2);
  const [v1, v2] = v;
  await v2.send(xml('message', { to: from('mod', 'V1'), type: 'chat' }, xml('body', {}, 'psst')));
  await v1.waitFor(
    (s) => s.is('message') && s.attrs.from === from('mod', 'V2') && s.getChildText('body') === 'psst',
    5000,
    'private message',
  );
  await owner.iq(
    xml(
      'iq',
      { type: 'set', to: `mod@${HOST}` },
      xml('query', { xmlns: 'http://jabber.org/protocol/muc#admin' }, xml('item', { nick: 'V1', role: 'none' })),
    ),
  );
  await v1.waitFor(
    (s) => unavailable('mod', 'V1')(s) && codes(s).includes('307') && codes(s).includes('110'),
    5000,
    'own 307',
  );
  await owner.waitFor((s) => unavailable('mod', 'V1')(s) && codes(s).includes('307'), 5000, 'moderator 307');
  await noneAfterRoundTrip(v2, unavailable('mod', 'V1'), '307 at another viewer');
  await noneAfterRoundTrip(alice, unavailable('mod', 'V1'), '307 at the member');
  // Promoting a quiet viewer to moderator announces it to everyone, and it now sees the quiet ones.
  await owner.iq(
    xml(
      'iq',
      { type: 'set', to: `mod@${HOST}` },
      xml('query', { xmlns: 'http://jabber.org/protocol/muc#admin' }, xml('item', { nick: 'V2', role: 'moderator' })),
    ),
  );
  await alice.waitFor(
    (s) => available('mod', 'V2')(s) && s.getChild('x', USER)?.getChild('item')?.attrs.role === 'moderator',
    5000,
    'new moderator announced',
  );
});

test('viewers get the counter; the owner switches the mode with 104 and disco shows it', async () => {
  const { owner, v } = await bigRoom('count', 2);
  const [v1, v2] = v;
  const countIs = (total: number) => (s: Stanza) => s.getChild('occupants', COUNT_NS)?.attrs.total === String(total);
  await v1.waitFor(countIs(3), 5000, 'counter on join');
  await v1.waitFor(
    (s) => countIs(4)(s) && s.getChild('occupants', COUNT_NS)?.attrs.anonymous === '2',
    10000,
    'coalesced update',
  );
  await v2.waitFor(countIs(4), 5000, 'counter for the last joiner');
  const info = async () => {
    const r = await v1.iq(
      xml('iq', { type: 'get', to: `count@${HOST}` }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
    );
    const fields = r.getChild('query').getChild('x', 'jabber:x:data').getChildren('field');
    return fields.find((f: Stanza) => f.attrs.var === 'muc#roominfo_x_livechat_presence_mode')?.getChildText('value');
  };
  assert.is(await info(), 'auto');
  await configure(owner, 'count', { [MODE]: 'all' });
  await v1.waitFor((s) => s.is('message') && codes(s).includes('104'), 5000, '104');
  await v1.waitFor(available('count', 'V2'), 5000, 'hidden viewers announced when switching to all');
  await v2.waitFor(available('count', 'V1'), 5000, 'both ways');
  assert.is(await info(), 'all');
  const v3 = await clients.viewer();
  await joinRoom(v3, 'count', 'V3');
  await v1.waitFor(available('count', 'V3'), 5000, 'in mode all a new viewer is announced');
  await configure(owner, 'count', { [MODE]: 'speakers' });
  await v1.waitFor(
    (s) =>
      s.is('message') &&
      codes(s).includes('104') &&
      v1.received.filter((m) => m.is('message') && codes(m).includes('104')).length >= 2,
    5000,
    'second 104',
  );
  const v4 = await clients.viewer();
  await joinRoom(v4, 'count', 'V4');
  await owner.waitFor(available('count', 'V4'), 5000, 'moderator sees V4');
  await noneAfterRoundTrip(v1, available('count', 'V4'), 'quiet V4 announced in mode speakers');
  const bad = configure(owner, 'count', { [MODE]: 'nobody' });
  await bad.then(
    () => assert.unreachable('bad mode accepted'),
    (e) => assert.is((e as { condition?: string }).condition, 'bad-request'),
  );
});

test('occupant list stays consistent under XEP-0045 client rules: no live message from an unseen occupant', async () => {
  const room = 'busy';
  const { owner, alice, v } = await bigRoom(room, 6);
  // Chatter, nick changes and leaves while speakers come and go (2 s timeout).
  const script: Array<() => Promise<unknown>> = [
    () => say(v[0], room, 'one'),
    () => say(alice, room, 'two'),
    () => say(v[1], room, 'three'),
    () => v[2].send(xml('presence', { to: from(room, 'V3x') })),
    () => say(v[2], room, 'four'),
    () => say(v[0], room, 'five'),
    () => v[3].send(xml('presence', { to: from(room, 'V4'), type: 'unavailable' })),
    () => say(owner, room, 'six'),
  ];
  for (const step of script) await step();
  await new Promise((r) => setTimeout(r, 2500)); // let the first speakers fade
  await say(v[1], room, 'seven');
  await say(v[4], room, 'eight');
  await v[5].send(xml('presence', { to: from(room, 'V6x') }));
  await say(v[5], room, 'nine');
  const last = await v[0].waitFor(bodyFrom(room, 'V6x', 'nine'), 10000, 'last message');
  for (const c of [alice, ...v.filter((_, i) => i !== 3)])
    await c.waitFor(bodyFrom(room, 'V6x', 'nine'), 10000, 'last message everywhere');
  assert.ok(last);
  let messagesChecked = 0;
  for (const c of [owner, alice, ...v.filter((_, i) => i !== 3)]) {
    // The rules ConverseJS applies: available adds or updates, 303 renames, any other unavailable removes.
    const seen = new Set<string>();
    for (const s of c.received) {
      const f: string | undefined = s.attrs.from;
      if (!f?.startsWith(`${room}@${HOST}/`)) continue;
      const nick = f.slice(`${room}@${HOST}/`.length);
      if (s.is('presence')) {
        if (!s.attrs.type) seen.add(nick);
        else if (s.attrs.type === 'unavailable') {
          seen.delete(nick);
          if (codes(s).includes('303')) seen.add(s.getChild('x', USER).getChild('item').attrs.nick);
        }
      } else if (
        s.is('message') &&
        s.attrs.type === 'groupchat' &&
        s.getChild('body') &&
        !s.getChild('delay', 'urn:xmpp:delay')
      ) {
        assert.ok(seen.has(nick), `${c.jid} got "${s.getChildText('body')}" from ${nick} it has not seen`);
        messagesChecked++;
      }
    }
  }
  assert.ok(messagesChecked >= 50, `checked ${messagesChecked} live messages`);
});

test('config: defaults, and a bad value names its field', () => {
  assert.equal(validateMuc({}, 'muc', 'room.localhost').visibleOccupants, {
    mode: 'auto',
    threshold: 100,
    speakerTimeout: 1800,
    maxSpeakers: 200,
  });
  assert.throws(
    () => validateMuc({ visibleOccupants: { mode: 'some' } }, 'muc', 'room.localhost'),
    /muc\.visibleOccupants\.mode/,
  );
  assert.throws(
    () => validateMuc({ visibleOccupants: { speakerTimeout: 0 } }, 'muc', 'room.localhost'),
    /muc\.visibleOccupants\.speakerTimeout/,
  );
  assert.throws(
    () => validateMuc({ visibleOccupants: { treshold: 5 } }, 'muc', 'room.localhost'),
    /muc\.visibleOccupants\.treshold: unknown setting/,
  );
});

test.run();
