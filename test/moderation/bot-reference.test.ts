// The in-process moderation bot side by side with livechat's own bot: the npm package xmppjs-chat-bot (installed in
// test/reference-bot/, run as livechat runs it: its CLI with a global file and --room-conf-dir) connected to Debian's
// Prosody with livechat's modules. Both read the same room file; the same client script records what the owner and
// a viewer see: the bot's presence, the welcome with its mention, forbidden words and duplicates retracted with
// their reason, moderators exempt, a !command's answer and timed quotes in turn.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sideBySide, type ChatTarget } from '../helpers/livechat-prosody.js';
import { xml, type Stanza, type TestClient } from '../helpers/xmpp-client.js';
import { wordListPattern } from '../../plugin/server/lib/channel-bot-conf.js';

const REFERENCE_DIR = fileURLToPath(new URL('../reference-bot/', import.meta.url));
const CLI = join(REFERENCE_DIR, 'node_modules', 'xmppjs-chat-bot', 'lib', 'cli', 'cli.js');
const MUC = 'http://jabber.org/protocol/muc';
const USER = 'http://jabber.org/protocol/muc#user';

const HANDLERS = [
  {
    type: 'moderate',
    id: 'forbidden_words_0',
    enabled: true,
    options: {
      rules: [{ name: 'forbidden_words_0', regexp: wordListPattern(['spam', 'c++']), reason: 'Forbidden word' }],
    },
  },
  { type: 'no-duplicate', id: 'no_duplicate', enabled: true, options: { reason: 'Duplicate', delay: 60 } },
  { type: 'command_say', id: 'command_0', enabled: true, options: { command: 'help', quotes: ['Type !1 to vote'] } },
  { type: 'hello', id: 'hello', enabled: true, options: { txt: 'Welcome {{NICK}}!' } },
  { type: 'quotes', id: 'quote_0', enabled: true, options: { quotes: ['Follow the channel', 'Be nice'], delay: 2 } },
];

/** livechat's bot process against the reference Prosody, as livechat starts it; stopped by PID. */
async function startReferenceBot(
  t: ChatTarget,
  roomConf: unknown,
): Promise<{ rooms: string; stop(): Promise<void>; output(): string }> {
  if (!existsSync(CLI))
    throw new Error(`xmppjs-chat-bot is not installed: run "npm ci --prefix test/reference-bot" (expected ${CLI})`);
  const dir = await mkdtemp(join(tmpdir(), 'reference-bot-'));
  const rooms = join(dir, 'rooms');
  await mkdir(rooms);
  await writeFile(join(rooms, 'live.json'), JSON.stringify(roomConf));
  await writeFile(
    join(dir, 'moderation.json'),
    JSON.stringify({
      type: 'client',
      connection: { service: t.wsUrl, domain: t.domain, username: 'moderator', password: 'pw', resource: 'bot' },
      name: 'Sepia',
      logger: 'ConsoleLogger',
      log_level: 'info',
    }),
  );
  let out = '';
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, 'run', '-f', join(dir, 'moderation.json'), '--room-conf-dir', rooms],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    rooms,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const k = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(k);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const presenceOf = (room: string, nick: string) => (s: Stanza) =>
  s.is('presence') && s.attrs.from === `${room}/${nick}` && !s.attrs.type;
const retractionOf = (id: string) => (s: Stanza) =>
  s.is('message') && s.getChild('apply-to', 'urn:xmpp:fasten:0')?.attrs.id === id;
const reasonOf = (s: Stanza) =>
  s
    .getChild('apply-to', 'urn:xmpp:fasten:0')
    ?.getChild('moderated', 'urn:xmpp:message-moderate:0')
    ?.getChildText('reason') ?? null;

async function joinAs(c: TestClient, room: string, nick: string): Promise<void> {
  await c.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: MUC })));
  await c.waitFor(
    (s) => s.is('message') && s.attrs.from === room && !!s.getChild('subject'),
    15000,
    `${nick}: end of join`,
  );
}

async function say(c: TestClient, room: string, body: string): Promise<void> {
  await c.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, body)));
}

test("forbidden words, duplicates, moderators exempt, !command, welcome and timed quotes: same as livechat's bot", async () => {
  const { ours } = await sideBySide(
    'bot',
    async (t) => {
      const room = `live@${t.mucHost}`;
      const conf = { local: 'live', domain: t.mucHost, enabled: true, handlers: HANDLERS };
      const owner = await t.user('owner');
      await joinAs(owner, room, 'Owner');
      let reference: Awaited<ReturnType<typeof startReferenceBot>> | undefined;
      try {
        if (t.ours) {
          const dir = join(t.ours.dataDir, 'bot', t.mucHost, 'rooms');
          await mkdir(dir, { recursive: true });
          await writeFile(join(dir, 'live.json'), JSON.stringify(conf));
        } else {
          // livechat makes its bot an admin of the MUC service; here the room owner makes it an admin of the room.
          await owner.iq(
            xml(
              'iq',
              { type: 'set', to: room },
              xml(
                'query',
                { xmlns: 'http://jabber.org/protocol/muc#admin' },
                xml('item', { jid: `moderator@${t.domain}`, affiliation: 'admin' }),
              ),
            ),
          );
          reference = await startReferenceBot(t, conf);
        }
        const bot = await owner.waitFor(presenceOf(room, 'Sepia'), 20000, 'bot joins').catch((e) => {
          throw new Error(`${e.message}\n${reference?.output() ?? ''}`);
        });
        const botRole = bot.getChild('x', USER)?.getChild('item')?.attrs.role;

        const viewer = await t.anon();
        await joinAs(viewer, room, 'Viewer');
        const hello = await viewer.waitFor((s) => s.getChildText('body') === 'Welcome Viewer!', 15000, 'welcome');
        const mention = hello.getChild('reference', 'urn:xmpp:reference:0')?.attrs;

        const idOf = async (body: string) =>
          (
            await owner.waitFor(
              (s) => s.is('message') && s.getChildText('body') === body,
              10000,
              `"${body}" at the owner`,
            )
          ).getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id as string;
        await say(viewer, room, 'this is SPAM!');
        const spam = await owner.waitFor(retractionOf(await idOf('this is SPAM!')), 15000, 'forbidden word retracted');
        await say(viewer, room, 'I write c++ code');
        const cpp = await owner.waitFor(retractionOf(await idOf('I write c++ code')), 15000, 'escaped word retracted');

        await say(viewer, room, 'Hello World');
        const firstId = await idOf('Hello World');
        await say(viewer, room, 'Hello World');
        const dupId = (
          await owner.waitFor(
            (s) =>
              s.is('message') &&
              s.getChildText('body') === 'Hello World' &&
              s.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id !== firstId,
            10000,
            'the duplicate',
          )
        ).getChild('stanza-id', 'urn:xmpp:sid:0').attrs.id as string;
        const dup = await owner.waitFor(retractionOf(dupId), 15000, 'duplicate retracted');

        await say(viewer, room, '!help');
        const answer = await viewer.waitFor(
          (s) => s.getChildText('body') === 'Type !1 to vote',
          15000,
          'command answer',
        );

        // The owner (a moderator) is exempt: its forbidden word stays, checked once the bot answered its next command.
        await say(owner, room, 'spam from the owner');
        const ownId = await idOf('spam from the owner');
        const mark = owner.received.length;
        await say(owner, room, '!help');
        await owner.waitFor(
          (s) => owner.received.indexOf(s) >= mark && s.getChildText('body') === 'Type !1 to vote',
          15000,
          'second answer',
        );

        const q1 = await viewer.waitFor(
          (s) =>
            s.attrs.from === `${room}/Sepia` &&
            ['Follow the channel', 'Be nice'].includes(s.getChildText('body') ?? ''),
          15000,
          'a quote',
        );
        const firstQuote = q1.getChildText('body');
        const next = firstQuote === 'Follow the channel' ? 'Be nice' : 'Follow the channel';
        await viewer.waitFor(
          (s) =>
            viewer.received.indexOf(s) > viewer.received.indexOf(q1) &&
            s.attrs.from === `${room}/Sepia` &&
            s.getChildText('body') === next,
          15000,
          'the other quote next',
        );
        return {
          botRole,
          welcome: {
            from: hello.attrs.from === `${room}/Sepia`,
            mention: mention ? { type: mention.type, begin: mention.begin, end: mention.end } : null,
          },
          ownerGreeted: owner.received.some((s) => s.getChildText('body') === 'Welcome Owner!'),
          retractions: [reasonOf(spam), reasonOf(cpp), reasonOf(dup)],
          firstHelloKept: !owner.received.some(retractionOf(firstId)),
          commandFrom: answer.attrs.from === `${room}/Sepia`,
          ownerExempt: !owner.received.some(retractionOf(ownId)),
        };
      } finally {
        await reference?.stop();
      }
    },
    { ours: { bot: { enabled: true } } },
  );
  console.log(`  observed on both: ${JSON.stringify(ours)}`);
  assert.equal(ours.retractions, ['Forbidden word', 'Forbidden word', 'Duplicate']);
  assert.is(ours.botRole, 'moderator');
  assert.equal(ours.welcome, { from: true, mention: { type: 'mention', begin: '8', end: '14' } });
  assert.is(ours.firstHelloKept, true);
  assert.is(ours.commandFrom, true);
  assert.is(ours.ownerExempt, true);
});

test("the room file is re-read when it changes: new nick and rules, then enabled=false: same as livechat's bot", async () => {
  const { ours } = await sideBySide(
    'bot reload',
    async (t) => {
      const room = `live@${t.mucHost}`;
      const conf = (extra: Record<string, unknown>) => ({
        local: 'live',
        domain: t.mucHost,
        enabled: true,
        handlers: [HANDLERS[3]],
        ...extra,
      });
      const owner = await t.user('owner');
      await joinAs(owner, room, 'Owner');
      let reference: Awaited<ReturnType<typeof startReferenceBot>> | undefined;
      let dir: string;
      try {
        if (t.ours) {
          dir = join(t.ours.dataDir, 'bot', t.mucHost, 'rooms');
          await mkdir(dir, { recursive: true });
          await writeFile(join(dir, 'live.json'), JSON.stringify(conf({})));
        } else {
          await owner.iq(
            xml(
              'iq',
              { type: 'set', to: room },
              xml(
                'query',
                { xmlns: 'http://jabber.org/protocol/muc#admin' },
                xml('item', { jid: `moderator@${t.domain}`, affiliation: 'admin' }),
              ),
            ),
          );
          reference = await startReferenceBot(t, conf({}));
          dir = reference.rooms;
        }
        await owner.waitFor(presenceOf(room, 'Sepia'), 20000, 'bot joins');
        const mark = owner.received.length;
        // As livechat writes the file: every handler listed, the switched-off ones with enabled=false. (A handler left
        // out of the file keeps running in xmppjs-chat-bot; the in-process bot stops it: the file is the whole state.)
        const next = [{ ...HANDLERS[3], enabled: false }, HANDLERS[0]];
        await writeFile(join(dir, 'live.json'), JSON.stringify(conf({ nick: 'Robot', handlers: next })));
        const after = (s: Stanza) => owner.received.indexOf(s) >= mark;
        const robot = await owner.waitFor(
          (s) => after(s) && presenceOf(room, 'Robot')(s),
          15000,
          'the bot under its new nick',
        );
        const sepiaGone = owner.received.find(
          (s) => after(s) && s.is('presence') && s.attrs.from === `${room}/Sepia` && s.attrs.type === 'unavailable',
        );
        const viewer = await t.anon();
        await joinAs(viewer, room, 'Viewer');
        await say(viewer, room, 'spam after the reload');
        const id = (
          await owner.waitFor(
            (s) => s.is('message') && s.getChildText('body') === 'spam after the reload',
            10000,
            'the message',
          )
        ).getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id as string;
        const retracted = await owner.waitFor(retractionOf(id), 15000, 'new rules apply');
        const welcomed = viewer.received.some((s) => s.getChildText('body') === 'Welcome Viewer!');

        await writeFile(
          join(dir, 'live.json'),
          JSON.stringify(conf({ nick: 'Robot', handlers: next, enabled: false })),
        );
        await owner.waitFor(
          (s) => s.is('presence') && s.attrs.from === `${room}/Robot` && s.attrs.type === 'unavailable',
          15000,
          'bot leaves when disabled',
        );
        return {
          renamed: {
            robotRole: robot.getChild('x', USER)?.getChild('item')?.attrs.role,
            sepiaLeft: !!sepiaGone,
            nickChange303: !!sepiaGone
              ?.getChild('x', USER)
              ?.getChildren('status')
              .some((c: Stanza) => c.attrs.code === '303'),
          },
          reason: reasonOf(retracted),
          oldHandlersGone: !welcomed,
        };
      } finally {
        await reference?.stop();
      }
    },
    { ours: { bot: { enabled: true } } },
  );
  console.log(`  observed on both: ${JSON.stringify(ours)}`);
  assert.equal(ours, {
    renamed: { robotRole: 'moderator', sepiaLeft: true, nickChange303: true },
    reason: 'Forbidden word',
    oldHandlersGone: true,
  });
});

test.run();
