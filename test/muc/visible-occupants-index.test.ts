// Visible occupants in a large room consider only the shown occupants for a joiner's roster and only moderators for
// a quiet occupant's presence. These check the cases where that bookkeeping could go stale: a viewer promoted to
// moderator and demoted again, a moderator's second session moving to a nick of its own, a speaker, a renamed
// visible occupant and one that left, as a later joiner's roster and the moderators' view show them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  ADMIN,
  Clients,
  HOST,
  MUC,
  joinRoom,
  say,
  xml,
  type Stanza,
  type TestClient,
} from '../moderation/room-client.js';

let srv: TestServer;
const clients = new Clients(() => srv);
// Threshold 2: the owner and one more are seen by everyone; later plain viewers join quiet. Speakers stay a minute.
test.before.each(async () => {
  srv = await startTestServer({ testMode: true, muc: { visibleOccupants: { threshold: 2, speakerTimeout: 60 } } });
});
test.after.each(async () => {
  await clients.stopAll();
  await srv?.stop();
});

const from = (nick: string) => `live@${HOST}/${nick}`;
const available = (nick: string) => (s: Stanza) => s.is('presence') && s.attrs.from === from(nick) && !s.attrs.type;
const rosterOf = (c: TestClient) =>
  [
    ...new Set(
      c.received
        .filter((s) => s.is('presence') && !s.attrs.type && s.attrs.from?.startsWith(`live@${HOST}/`))
        .map((s) => s.attrs.from.split('/')[1]),
    ),
  ].sort();

const setRole = (c: TestClient, nick: string, role: string) =>
  c.iq(xml('iq', { type: 'set', to: `live@${HOST}` }, xml('query', { xmlns: ADMIN }, xml('item', { nick, role }))));

async function viewer(nick: string): Promise<TestClient> {
  const c = await clients.viewer();
  await joinRoom(c, 'live', nick);
  return c;
}

test("a joiner's roster: the early and the speaking are in it, under their current nick; the quiet and the gone are not", async () => {
  const owner = await clients.user('owner');
  await joinRoom(owner, 'live', 'Owner');
  const early = await viewer('Early'); // below the threshold: seen by everyone
  const quiet = await viewer('Quiet');
  const speaker = await viewer('Speaker');
  const gone = await viewer('Gone');
  await say(speaker, 'live', 'hello');
  await quiet.waitFor((s) => s.is('message') && s.getChildText('body') === 'hello', 5000, 'the message');
  await early.send(xml('presence', { to: from('Early renamed') }));
  await owner.waitFor(available('Early renamed'), 5000, 'rename seen');
  await gone.stop();
  await owner.waitFor((s) => s.attrs.from === from('Gone') && s.attrs.type === 'unavailable', 5000, 'Gone left');
  void quiet;

  const late = await viewer('Late');
  assert.equal(rosterOf(late), ['Early renamed', 'Late', 'Owner', 'Speaker']);
});

test('a viewer made moderator sees quiet joins from then on, and no longer once demoted', async () => {
  const owner = await clients.user('owner');
  await joinRoom(owner, 'live', 'Owner');
  await viewer('Early');
  const mod = await viewer('Mod'); // joins quiet
  await setRole(owner, 'Mod', 'moderator');
  await mod.waitFor(
    (s) => available('Mod')(s) && s.getChild('x', `${MUC}#user`)?.getChild('item')?.attrs.role === 'moderator',
    5000,
    'promoted',
  );
  await viewer('Q1');
  await mod.waitFor(available('Q1'), 5000, 'the new moderator sees a quiet join');
  await setRole(owner, 'Mod', 'participant');
  await mod.waitFor(
    (s) => available('Mod')(s) && s.getChild('x', `${MUC}#user`)?.getChild('item')?.attrs.role === 'participant',
    5000,
    'demoted',
  );
  const q2 = await viewer('Q2');
  await owner.waitFor(available('Q2'), 5000, 'the owner sees it');
  await q2.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  await mod.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  assert.not.ok(mod.received.some(available('Q2')), 'a former moderator does not');
});

test("a moderator's second session under a nick of its own still sees quiet joins", async () => {
  const web = await clients.user('owner', 'web');
  await joinRoom(web, 'live', 'Owner');
  const phone = await clients.user('owner', 'phone');
  await joinRoom(phone, 'live', 'Owner');
  await viewer('Early');
  await viewer('First quiet'); // the room hides quiet viewers from here on
  await phone.send(xml('presence', { to: from('Owner on phone') }, xml('x', { xmlns: MUC })));
  await phone.waitFor(available('Owner on phone'), 5000, 'moved to its own nick');
  await viewer('Quiet');
  await phone.waitFor(available('Quiet'), 5000, 'that session sees the quiet join');
  await web.waitFor(available('Quiet'), 5000, 'so does the first one');
});

test.run();
