// The in-process moderation bot, driven by livechat's room files (bot/<muc>/rooms/<room>.json) and observed with
// @xmpp/client: forbidden words (as livechat writes them, and regexps on a linear-time engine), no-duplicate,
// !commands, timed quotes, welcome message, hot reload of the file.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServerPerTest, HOST, USER, codes, joinRoom, say, type Stanza, type TestClient } from './room-client.js';
import { wordListPattern } from '../../plugin/server/lib/channel-bot-conf.js';

const fx = new ServerPerTest(test, { testMode: true, bot: { enabled: true } });
const clients = fx.clients;
const roomsDir = () => join(fx.srv.dataDir, 'bot', HOST, 'rooms');

async function writeConf(handlers: unknown[], extra: Record<string, unknown> = {}): Promise<void> {
  await mkdir(roomsDir(), { recursive: true });
  await writeFile(
    join(roomsDir(), 'live.json'),
    JSON.stringify({ local: 'live', domain: HOST, enabled: true, handlers, ...extra }),
  );
}

const retractionOf = (id: string) => (s: Stanza) =>
  s.is('message') && s.getChild('apply-to', 'urn:xmpp:fasten:0')?.attrs.id === id;
const stanzaIdOf = async (c: TestClient, body: string) =>
  (await c.waitFor((s) => s.getChildText('body') === body, 10000, `"${body}"`)).getChild('stanza-id', 'urn:xmpp:sid:0')
    .attrs.id as string;
const presenceOf = (nick: string, type?: string) => (s: Stanza) =>
  s.is('presence') && s.attrs.from === `live@${HOST}/${nick}` && s.attrs.type === type;

const HANDLERS = [
  {
    type: 'moderate',
    id: 'forbidden_words_0',
    enabled: true,
    options: {
      rules: [{ name: 'forbidden_words_0', regexp: wordListPattern(['spam', 'c++']), reason: 'Forbidden word' }],
    },
  },
  {
    type: 'moderate',
    id: 'forbidden_words_1',
    enabled: true,
    options: {
      rules: [
        { name: 'evil', regexp: '(a+)+$' },
        { name: 'url', regexp: 'https?://\\S+', reason: 'No links' },
      ],
    },
  },
  { type: 'moderate', id: 'bad', enabled: true, options: { rules: [{ name: 'lookahead', regexp: '(?=x)' }] } },
  { type: 'no-duplicate', id: 'no_duplicate', enabled: true, options: { reason: 'Duplicate', delay: 60 } },
  { type: 'command_say', id: 'command_0', enabled: true, options: { command: 'help', quotes: ['Type !1 to vote'] } },
  { type: 'hello', id: 'hello', enabled: true, options: { txt: 'Welcome {{NICK}}!' } },
];

test('forbidden words and patterns, no-duplicate, !commands and welcome, as livechat configures them', async () => {
  const owner = await clients.user('owner');
  await joinRoom(owner, 'live', 'Owner');
  await writeConf(HANDLERS);
  const botPresence = await owner.waitFor(presenceOf('Sepia'), 10000, 'bot joins');
  assert.is(botPresence.getChild('x', USER).getChild('item').attrs.role, 'moderator');
  const viewer = await clients.viewer();
  await joinRoom(viewer, 'live', 'Viewer');
  const hello = await viewer.waitFor((s) => s.getChildText('body') === 'Welcome Viewer!', 10000, 'welcome');
  assert.is(hello.attrs.from, `live@${HOST}/Sepia`);
  assert.is(hello.getChild('reference', 'urn:xmpp:reference:0')?.attrs.begin, '8');

  await say(viewer, 'live', 'this is SPAM!');
  const id1 = await stanzaIdOf(owner, 'this is SPAM!');
  const r1 = await owner.waitFor(retractionOf(id1), 10000, 'forbidden word retracted');
  assert.match(
    r1
      .getChild('apply-to', 'urn:xmpp:fasten:0')
      .getChild('moderated', 'urn:xmpp:message-moderate:0')
      .getChildText('reason'),
    'Forbidden word',
  );
  await say(viewer, 'live', 'I write c++ code');
  await owner.waitFor(retractionOf(await stanzaIdOf(owner, 'I write c++ code')), 10000, 'escaped word retracted');

  // A catastrophic-backtracking pattern cannot stall the server: the next message is still moderated.
  await say(viewer, 'live', `${'a'.repeat(5000)}!`);
  await say(viewer, 'live', 'see https://example.com');
  await owner.waitFor(
    retractionOf(await stanzaIdOf(owner, 'see https://example.com')),
    10000,
    'link retracted after the evil input',
  );

  await say(viewer, 'live', 'Hello   World');
  await say(viewer, 'live', 'hello world');
  const dupId = await stanzaIdOf(owner, 'hello world');
  await owner.waitFor(retractionOf(dupId), 10000, 'duplicate retracted');
  const firstId = await stanzaIdOf(owner, 'Hello   World');
  assert.not.ok(owner.received.some(retractionOf(firstId)), 'first one stays');

  await say(viewer, 'live', '!help me');
  await viewer.waitFor(
    (s) => s.getChildText('body') === 'Type !1 to vote' && s.attrs.from === `live@${HOST}/Sepia`,
    10000,
    'command answer',
  );

  // Moderators are exempt unless applyToModerators.
  await say(owner, 'live', 'spam from the owner');
  const ownId = await stanzaIdOf(owner, 'spam from the owner');
  await say(owner, 'live', '!help');
  await owner.waitFor(
    (s) =>
      s.getChildText('body') === 'Type !1 to vote' &&
      owner.received.indexOf(s) > owner.received.findIndex((x) => x.getChildText('body') === '!help'),
    10000,
    'second answer',
  );
  assert.not.ok(owner.received.some(retractionOf(ownId)), 'owner not moderated');
});

test('timed quotes when someone listens; the file is re-read on change (nick, handlers) and enabled=false leaves', async () => {
  const owner = await clients.user('owner');
  await joinRoom(owner, 'live', 'Owner');
  await writeConf([
    { type: 'quotes', id: 'quote_0', enabled: true, options: { quotes: ['Follow the channel', 'Be nice'], delay: 1 } },
  ]);
  await owner.waitFor(presenceOf('Sepia'), 10000, 'bot joins');
  await owner.waitFor((s) => s.getChildText('body') === 'Follow the channel', 10000, 'first quote');
  await owner.waitFor((s) => s.getChildText('body') === 'Be nice', 10000, 'second quote in turn');

  await writeConf([HANDLERS[0]], { nick: 'Robot' });
  const renamed = await owner.waitFor(presenceOf('Sepia', 'unavailable'), 10000, 'bot renamed');
  assert.ok(codes(renamed).includes('303'));
  await owner.waitFor(presenceOf('Robot'), 10000, 'new nick');
  const viewer = await clients.viewer();
  await joinRoom(viewer, 'live', 'Viewer');
  await say(viewer, 'live', 'spam again');
  await owner.waitFor(retractionOf(await stanzaIdOf(owner, 'spam again')), 10000, 'new handlers apply');

  await writeConf([HANDLERS[0]], { nick: 'Robot', enabled: false });
  await owner.waitFor(presenceOf('Robot', 'unavailable'), 10000, 'bot leaves when disabled');
  assert.equal(fx.srv.server.bot!.joinedRooms(), []);
});

test('a room named in a file before it exists is joined once created; deleting the file makes the bot leave', async () => {
  await mkdir(roomsDir(), { recursive: true });
  await writeFile(
    join(roomsDir(), 'later.json'),
    JSON.stringify({ local: 'later', domain: HOST, handlers: [HANDLERS[0]] }),
  );
  await writeFile(join(roomsDir(), 'broken.json'), '{ not json');
  await writeFile(
    join(roomsDir(), 'elsewhere.json'),
    JSON.stringify({ local: 'x', domain: 'room.example.org', handlers: [] }),
  );
  const owner = await clients.user('owner');
  await joinRoom(owner, 'later', 'Owner');
  await owner.waitFor(
    (s) => s.is('presence') && s.attrs.from === `later@${HOST}/Sepia` && !s.attrs.type,
    10000,
    'bot joins the new room',
  );
  assert.equal(fx.srv.server.bot!.joinedRooms(), ['later']);
  await rm(join(roomsDir(), 'later.json'));
  await owner.waitFor(
    (s) => s.is('presence') && s.attrs.from === `later@${HOST}/Sepia` && s.attrs.type === 'unavailable',
    10000,
    'bot leaves',
  );
});

test.run();
