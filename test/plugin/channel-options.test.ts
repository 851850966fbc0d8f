// livechat's channel options as files written by its older versions, and the bot room file made from them: what the
// plugin reads from a data folder livechat left, and what the in-process bot then parses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChannelOptionsError,
  defaultChannelOptions,
  readChannelOptionsFile,
  sanitizeChannelOptions,
} from '../../plugin/server/lib/channel-options.js';
import { botRoomConf, writeBotRoomConf } from '../../plugin/server/lib/channel-bot-conf.js';
import { parseRoomConf } from '../../src/bot/room-conf.js';

const minimal = { bot: { forbiddenWords: [], quotes: [], commands: [] } };

test('files of older livechat versions get the defaults of what they lack', () => {
  // livechat 8.3: slow mode under defaultDuration, no mute, moderation or special-characters sections.
  const o = sanitizeChannelOptions({ ...minimal, slowMode: { defaultDuration: 7 } }, false);
  assert.is(o.slowMode.duration, 7);
  assert.equal(o.mute, { anonymous: false });
  assert.equal(o.moderation, { delay: 0, anonymize: false });
  assert.equal(o.bot.noDuplicate, defaultChannelOptions().bot.noDuplicate);
  assert.is(o.terms, undefined, 'no terms');
  assert.is(sanitizeChannelOptions({ ...minimal, terms: '' }, false).terms, undefined, 'empty terms are none');
});

test('refusals: wrong types, out-of-range numbers, too long terms, invalid patterns (with the reason for the form)', () => {
  const bad = [
    { bot: { ...minimal.bot, enabled: 'yes' } },
    { ...minimal, slowMode: { duration: 1001 } },
    { ...minimal, moderation: { delay: 61 } },
    { ...minimal, terms: 'x'.repeat(401) },
    { bot: { forbiddenWords: [], quotes: [{ messages: ['hi'], delay: 0 }], commands: [] } },
    { bot: { quotes: [], commands: [] } },
    'not an object',
  ];
  for (const b of bad)
    assert.throws(
      () => sanitizeChannelOptions(b, false),
      (e: unknown) => e instanceof ChannelOptionsError,
      JSON.stringify(b).slice(0, 60),
    );
  try {
    sanitizeChannelOptions(
      { bot: { forbiddenWords: [{ regexp: true, entries: ['a(b'] }], quotes: [], commands: [] } },
      true,
    );
    assert.unreachable('invalid pattern accepted');
  } catch (e) {
    assert.type((e as ChannelOptionsError).validationErrorMessage, 'string');
  }
});

test('regular-expression word lists are kept but off unless enable-users-regexp; control characters removed', () => {
  const data = {
    bot: {
      forbiddenWords: [{ regexp: true, entries: ['fo+'] }, { entries: ['bad\u0007word', ' '] }],
      quotes: [],
      commands: [{ command: 'he lp', message: 'Help!' }],
    },
  };
  const off = sanitizeChannelOptions(data, false);
  assert.is(off.bot.forbiddenWords[0].enabled, false);
  assert.is(sanitizeChannelOptions(data, true).bot.forbiddenWords[0].enabled, true);
  assert.equal(off.bot.forbiddenWords[1].entries, ['bad\u0007word'], 'entries kept as typed, blank ones dropped');
  assert.is(off.bot.commands[0].command, 'help', 'no spaces in a command');
});

test('the bot file: one handler per list, words matched as words, removed handlers switched off; the bot parses it', async () => {
  const o = sanitizeChannelOptions(
    {
      bot: {
        enabled: true,
        nickname: 'Modo',
        forbiddenWords: [{ entries: ['spoil.er', '🙂'], reason: 'No' }],
        noDuplicate: { enabled: true, reason: 'Said already', delay: 30, applyToModerators: false },
        quotes: [{ messages: ['Follow the channel!'], delay: 600 }],
        commands: [{ command: 'rules', message: 'Be nice' }],
      },
    },
    false,
  );
  const conf = botRoomConf(o, 'room1', 'room.example', {
    local: 'room1',
    domain: 'room.example',
    enabled: true,
    handlers: [{ type: 'quotes_random', id: 'quote_5', enabled: true, options: { quotes: ['old'], delay: 10 } }],
  });
  assert.is(conf.nick, 'Modo');
  assert.equal(
    conf.handlers.map((h) => [h.id, h.type, h.enabled]),
    [
      ['forbidden_words_0', 'moderate', true],
      ['no_duplicate', 'no-duplicate', true],
      ['quote_0', 'quotes_random', true],
      ['command_0', 'command_say', true],
      ['quote_5', 'quotes_random', false],
    ],
  );
  const rule = (conf.handlers[0].options.rules as Array<{ regexp: string }>)[0];
  assert.is(rule.regexp, '(?:\\bspoil\\.er\\b)|(?:🙂)');
  const warnings: string[] = [];
  const parsed = parseRoomConf(conf, (w) => warnings.push(w));
  assert.equal(warnings, []);
  assert.is(parsed.handlers.length, 4, 'the bot takes every enabled handler');
  const re = (parsed.handlers[0] as { rules: Array<{ regexp: { test(s: string): boolean } }> }).rules[0].regexp;
  assert.ok(re.test('a spoil.er here'));
  assert.not.ok(re.test('spoilxer'), 'the dot is literal');

  const dir = await mkdtemp(join(tmpdir(), 'bot-conf-'));
  try {
    // Nothing saved for the channel: an existing room file is switched off, none is created.
    await writeBotRoomConf(dir, 'a', 'room.example', null);
    assert.is(await readFile(join(dir, 'rooms', 'a.json'), 'utf8').catch(() => 'none'), 'none');
    await writeBotRoomConf(dir, 'a', 'room.example', o);
    assert.is(JSON.parse(await readFile(join(dir, 'rooms', 'a.json'), 'utf8')).enabled, true);
    await writeBotRoomConf(dir, 'a', 'room.example', null);
    assert.is(JSON.parse(await readFile(join(dir, 'rooms', 'a.json'), 'utf8')).enabled, false);
    const refused = await writeBotRoomConf(dir, '../x', 'room.example', o).then(
      () => false,
      () => true,
    );
    assert.ok(refused, 'a room name cannot leave the folder');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a stored file livechat wrote is read and checked again', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'channel-opts-'));
  try {
    await mkdir(join(dir, 'channelConfigurationOptions'));
    await writeFile(
      join(dir, 'channelConfigurationOptions', '3.json'),
      JSON.stringify({ ...minimal, mute: { anonymous: true }, terms: 'T' }),
    );
    const o = await readChannelOptionsFile(dir, 3, false);
    assert.is(o?.mute.anonymous, true);
    assert.is(o?.terms, 'T');
    assert.is(await readChannelOptionsFile(dir, 4, false), null, 'never saved');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
