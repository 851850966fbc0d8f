// Polls side by side: one client script against our server and against livechat's Prosody (mod_muc_poll);
// what the clients observe must be the same.
import { test } from 'uvu';
import { sideBySide, type ChatTarget } from '../helpers/livechat-prosody.js';
import { xml, type Stanza, type TestClient } from '../helpers/xmpp-client.js';
import { TIMEOUT, join, nextId, outcome, roomJid, say, stanzaError, bodyArrives } from './helpers.js';

const POLL = 'http://jabber.org/protocol/muc#x-poll';
const POLL_MSG = 'http://jabber.org/protocol/muc#x-poll-message';

function createPoll(
  c: TestClient,
  room: string,
  question: string,
  anonymous: boolean,
  choices: string[],
): Promise<Stanza> {
  const f = (k: string, v: string) => xml('field', { var: k }, xml('value', {}, v));
  const x = xml(
    'x',
    { xmlns: 'jabber:x:data', type: 'submit' },
    f('FORM_TYPE', POLL),
    f('muc#roompoll_question', question),
    f('muc#roompoll_duration', '1'),
    f('muc#roompoll_anonymous', anonymous ? '1' : '0'),
    ...choices.map((v, i) => f(`muc#roompoll_choice${i + 1}`, v)),
  );
  return c.iq(xml('iq', { type: 'set', to: room, id: nextId('poll') }, xml('query', { xmlns: POLL }, x)), TIMEOUT);
}

const pollOf = (s: Stanza): Stanza | undefined => (s.is('message') ? s.getChild('x-poll', POLL_MSG) : undefined);
/** What a client can see of a poll message, minus ids and clock values. */
function view(t: ChatTarget, s: Stanza) {
  const x = pollOf(s)!;
  return {
    from: s.attrs.from.replace(t.mucHost, 'MUC'),
    body: s.getChildText('body'),
    noStore: !!s.getChild('no-store', 'urn:xmpp:hints'),
    hasOccupantId: !!s.getChild('occupant-id', 'urn:xmpp:occupant-id:0'),
    votes: x.attrs.votes,
    over: x.attrs.over,
    question: x.getChildText('x-poll-question'),
    choices: x.getChildren('x-poll-choice').map((c: Stanza) => `${c.attrs.choice}:${c.getText()}:${c.attrs.votes}`),
  };
}
async function errorOf(c: TestClient, id: string) {
  const s = await outcome(c, id);
  return s.attrs.type === 'error' ? stanzaError(s) : 'relayed';
}

test('poll form, votes, bounces, debounced update, end results and state for a late joiner', async () => {
  await sideBySide('polls', async (t) => {
    const room = roomJid(t, 'pollroom');
    const owner = await t.user('streamer');
    const alice = await t.user('alice');
    const viewer = await t.anon();
    await join(owner, room, 'Streamer');
    await join(alice, room, 'Alice');
    await join(viewer, room, 'Viewer');
    const form = await owner.iq(
      xml('iq', { type: 'get', to: room, id: nextId('f') }, xml('query', { xmlns: POLL })),
      TIMEOUT,
    );
    const fields = form
      .getChild('query', POLL)
      .getChild('x', 'jabber:x:data')
      .getChildren('field')
      .map((f: Stanza) => `${f.attrs.var}:${f.attrs.type}:${f.getChild('required') ? 'req' : ''}`);
    let aliceForm = '';
    await alice
      .iq(xml('iq', { type: 'get', to: room, id: nextId('f') }, xml('query', { xmlns: POLL })), TIMEOUT)
      .catch((e: { condition: string }) => {
        aliceForm = e.condition;
      });

    await createPoll(owner, room, 'Best colour?', false, ['Red', 'Blue', '', 'Green']);
    const start = view(t, await viewer.waitFor((s) => !!pollOf(s) && !!s.getChild('body'), TIMEOUT, 'poll start'));
    const vote = await say(alice, room, '!2');
    const aliceVote = await errorOf(alice, vote);
    await bodyArrives(viewer, '!2');
    const bad = await errorOf(viewer, await say(viewer, room, '!3'));
    await say(viewer, room, '!4');
    const update = view(t, await owner.waitFor((s) => !!pollOf(s) && !s.getChild('body'), 20_000, 'update'));

    const late = await t.anon();
    await join(late, room, 'Late');
    const lateState = view(
      t,
      await late.waitFor((s) => !!pollOf(s) && !s.getChild('body'), TIMEOUT, 'state for joiner'),
    );

    await createPoll(owner, room, 'Secret?', true, ['yes', 'no']);
    const end = view(t, await alice.waitFor((s) => pollOf(s)?.attrs.over !== undefined, TIMEOUT, 'end message'));
    await alice.waitFor((s) => pollOf(s)?.getChildText('x-poll-question') === 'Secret?', TIMEOUT, 'second poll');
    const anonVote = await errorOf(viewer, await say(viewer, room, '!1'));
    const forged = nextId('forged');
    await viewer.send(
      xml(
        'message',
        { type: 'groupchat', to: room, id: forged },
        xml('body', {}, 'forged'),
        xml('x-poll', { xmlns: POLL_MSG, id: 'x', votes: '9', end: '1' }),
      ),
    );
    const forgedSeen = await alice.waitFor((s) => s.getChildText('body') === 'forged', TIMEOUT, 'forged relayed');
    return {
      fields,
      aliceForm,
      start,
      aliceVote,
      bad,
      update,
      lateState,
      end,
      anonVote,
      forgedHasPoll: !!pollOf(forgedSeen),
    };
  });
});

test.run();
