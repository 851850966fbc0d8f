// Polls on livechat's wire (mod_muc_poll), driven with @xmpp/client: form access, start/update/end messages,
// "!n" votes with the anonymous, bad-choice and ended rules, state for joiners, spoofing, and a restart.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ServerPerTest,
  HOST,
  configure,
  errCond,
  expectError,
  joinRoom,
  noneAfterRoundTrip,
  say,
  xml,
  type Stanza,
  type TestClient,
} from './room-client.js';

const POLL = 'http://jabber.org/protocol/muc#x-poll';
const POLL_MSG = 'http://jabber.org/protocol/muc#x-poll-message';

const fx = new ServerPerTest(test);
const clients = fx.clients;

function createPoll(
  c: TestClient,
  room: string,
  o: { question: string; minutes?: string; anonymous?: boolean; choices: string[] },
): Promise<Stanza> {
  const f = (k: string, v: string) => xml('field', { var: k }, xml('value', {}, v));
  const x = xml(
    'x',
    { xmlns: 'jabber:x:data', type: 'submit' },
    f('FORM_TYPE', POLL),
    f('muc#roompoll_question', o.question),
    f('muc#roompoll_duration', o.minutes ?? '1'),
    f('muc#roompoll_anonymous', o.anonymous ? '1' : '0'),
    ...o.choices.map((c, i) => f(`muc#roompoll_choice${i + 1}`, c)),
  );
  return c.iq(xml('iq', { type: 'set', to: `${room}@${HOST}` }, xml('query', { xmlns: POLL }, x)));
}

const pollOf = (s: Stanza): Stanza | undefined => (s.is('message') ? s.getChild('x-poll', POLL_MSG) : undefined);
const counts = (x: Stanza): Record<string, string> =>
  Object.fromEntries(x.getChildren('x-poll-choice').map((c: Stanza) => [c.attrs.choice, c.attrs.votes]));

async function setup() {
  const owner = await clients.user('owner');
  const alice = await clients.user('alice');
  const guest = await clients.viewer();
  await joinRoom(owner, 'live', 'Owner');
  await configure(owner, 'live', { 'muc#roomconfig_persistentroom': '1' });
  await joinRoom(alice, 'live', 'Alice');
  await joinRoom(guest, 'live', 'Guest');
  return { owner, alice, guest };
}

test('only owners and admins get the form or create a poll; the form has livechat fields', async () => {
  const { owner, alice } = await setup();
  const form = await owner.iq(xml('iq', { type: 'get', to: `live@${HOST}` }, xml('query', { xmlns: POLL })));
  const vars = form
    .getChild('query', POLL)
    .getChild('x', 'jabber:x:data')
    .getChildren('field')
    .map((f: Stanza) => f.attrs.var);
  assert.equal(vars, [
    'FORM_TYPE',
    'muc#roompoll_question',
    'muc#roompoll_duration',
    'muc#roompoll_anonymous',
    'muc#roompoll_choice1',
    'muc#roompoll_choice2',
    'muc#roompoll_choice3',
    'muc#roompoll_choice4',
    'muc#roompoll_choice5',
  ]);
  await expectError(
    alice.iq(xml('iq', { type: 'get', to: `live@${HOST}` }, xml('query', { xmlns: POLL }))),
    'forbidden',
  );
  await expectError(createPoll(alice, 'live', { question: 'Q?', choices: ['a', 'b'] }), 'forbidden');
  await expectError(createPoll(owner, 'live', { question: 'Q?', choices: ['only one'] }), 'bad-request');
  await expectError(createPoll(owner, 'live', { question: 'Q?', minutes: '0', choices: ['a', 'b'] }), 'bad-request');
  const info = await alice.iq(
    xml('iq', { type: 'get', to: `live@${HOST}` }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
  );
  assert.ok(
    info
      .getChild('query')
      .getChildren('feature')
      .some((f: Stanza) => f.attrs.var === POLL),
    'poll feature in disco',
  );
});

test('public poll: start message to all, "!n" relayed and counted, bad choice bounced, update after the debounce, end results', async () => {
  const { owner, alice, guest } = await setup();
  await createPoll(owner, 'live', { question: 'Best colour?', choices: ['Red', 'Blue', '', 'Green'] });
  const start = await guest.waitFor((s) => !!pollOf(s) && !!s.getChild('body'), 5000, 'poll start');
  assert.is(start.attrs.from, `live@${HOST}/Owner`);
  assert.is(
    start.getChildText('body'),
    'Best colour?\n1: Red\n2: Blue\n4: Green\nSend a message with an exclamation mark followed by your choice number to vote. Example: !1\n',
  );
  const x = pollOf(start)!;
  assert.is(x.attrs.votes, '0');
  assert.is(x.attrs.over, undefined);
  assert.ok(Math.abs(Number(x.attrs.end) - (Date.now() / 1000 + 60)) < 10, 'ends in one minute');
  assert.equal(counts(x), { 1: '0', 2: '0', 4: '0' });
  assert.ok(start.getChild('stanza-id', 'urn:xmpp:sid:0'), 'start message archived');

  const badId = await say(alice, 'live', '!3');
  const bad = await alice.waitFor((s) => s.attrs.id === badId && s.attrs.type === 'error', 5000, 'bad choice bounce');
  assert.is(errCond(bad), 'bad-request');
  await say(alice, 'live', ' !2 ');
  await guest.waitFor((s) => s.getChildText('body') === ' !2 ', 5000, 'public vote relayed');
  await say(guest, 'live', '!2');
  await say(alice, 'live', '!1'); // alice changes her mind
  const update = await owner.waitFor((s) => !!pollOf(s) && !s.getChild('body'), 12000, 'debounced update');
  assert.ok(update.getChild('no-store', 'urn:xmpp:hints'), 'update not stored');
  assert.is(pollOf(update)!.attrs.votes, '2');
  assert.equal(counts(pollOf(update)!), { 1: '1', 2: '1', 4: '0' });
  assert.is(owner.received.filter((s) => !!pollOf(s) && !s.getChild('body')).length, 1, 'three votes, one update');

  // A new poll ends the current one with its results.
  await createPoll(owner, 'live', { question: 'Next?', anonymous: true, choices: ['x', 'y'] });
  const end = await alice.waitFor((s) => pollOf(s)?.attrs.over === '', 5000, 'end message');
  assert.is(
    end.getChildText('body'),
    'Best colour?\nThis poll is now over.\n1: Red (1/2 = 50.00%)\n2: Blue (1/2 = 50.00%)\n4: Green (0/2 = 0.00%)\n',
  );
  await alice.waitFor((s) => pollOf(s)?.getChildText('x-poll-question') === 'Next?', 5000, 'second poll start');
});

test('anonymous poll: the vote is counted and bounced with continue/undefined-condition, nobody sees it', async () => {
  const { owner, alice, guest } = await setup();
  await createPoll(owner, 'live', { question: 'Secret?', anonymous: true, choices: ['yes', 'no'] });
  await guest.waitFor((s) => !!pollOf(s), 5000, 'poll start');
  const id = await say(guest, 'live', '!2');
  const err = await guest.waitFor((s) => s.attrs.id === id && s.attrs.type === 'error', 5000, 'anonymous vote bounce');
  assert.is(errCond(err), 'undefined-condition');
  assert.is(err.getChild('error').attrs.type, 'continue');
  assert.match(err.getChild('error').getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas'), /anonymous/);
  await noneAfterRoundTrip(alice, (s) => s.getChildText('body') === '!2', 'anonymous vote relayed');
  const update = await alice.waitFor((s) => !!pollOf(s) && !s.getChild('body'), 12000, 'update');
  assert.equal(counts(pollOf(update)!), { 1: '0', 2: '1' });
});

test('occupants cannot forge poll markup; a joiner gets the running poll after the subject', async () => {
  const { owner, alice } = await setup();
  await say(alice, 'live', 'fake', [
    xml('x-poll', { xmlns: POLL_MSG, id: 'forged', votes: '99', end: '1' }, xml('x-poll-question', {}, 'Forged?')),
  ]);
  const relayed = await owner.waitFor((s) => s.getChildText('body') === 'fake', 5000, 'relayed message');
  assert.is(pollOf(relayed), undefined, 'x-poll stripped');
  await createPoll(owner, 'live', { question: 'Late?', choices: ['a', 'b'] });
  const late = await clients.viewer();
  await joinRoom(late, 'live', 'Late');
  const subjectAt = late.received.findIndex((s) => s.is('message') && !!s.getChild('subject'));
  const state = await late.waitFor(
    (s) => !!pollOf(s) && !s.getChild('body') && s.attrs.to === late.jid,
    5000,
    'poll state on join',
  );
  assert.ok(late.received.indexOf(state) > subjectAt, 'after the subject');
  assert.is(pollOf(state)!.getChildText('x-poll-question'), 'Late?');
});

test('a running poll survives a restart with its votes; after its end "!n" bounces not-allowed', async () => {
  const { owner, alice } = await setup();
  await createPoll(owner, 'live', { question: 'Persist?', minutes: '10', choices: ['a', 'b'] });
  const start = await alice.waitFor((s) => !!pollOf(s), 5000, 'poll start');
  await say(alice, 'live', '!1');
  await owner.waitFor((s) => s.getChildText('body') === '!1', 5000, 'vote relayed');
  await fx.restart();
  const bob = await clients.user('bob');
  await joinRoom(bob, 'live', 'Bob');
  const state = await bob.waitFor((s) => !!pollOf(s) && !s.getChild('body'), 5000, 'poll state after restart');
  assert.is(pollOf(state)!.attrs.id, pollOf(start)!.attrs.id);
  assert.equal(counts(pollOf(state)!), { 1: '1', 2: '0' });
  // Move the end into the past in the stored room, as if the server had been down past it.
  await fx.restart(async (dataDir) => {
    const dir = join(dataDir, 'muc');
    const file = join(
      dir,
      (await readdir(dir)).find((n) => n.startsWith('live'))!,
    );
    const doc = JSON.parse(await readFile(file, 'utf8'));
    doc.data.poll.end = Math.floor(Date.now() / 1000) - 1;
    await writeFile(file, JSON.stringify(doc));
  });
  const carol = await clients.user('carol');
  await joinRoom(carol, 'live', 'Carol');
  const id = await say(carol, 'live', '!1');
  const err = await carol.waitFor((s) => s.attrs.id === id && s.attrs.type === 'error', 5000, 'late vote bounce');
  assert.is(errCond(err), 'not-allowed');
  assert.ok(!carol.received.some((s) => !!pollOf(s) && !s.getChild('body')), 'no running poll state for an ended poll');
});

test.run();
