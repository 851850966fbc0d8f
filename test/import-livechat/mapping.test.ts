// Prosody room data onto this server's rooms, the plugin's first-start import, and livechat's own data files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  affiliationsFromProsody,
  archiveRecordFromProsody,
  importLivechatOnFirstStart,
  importLivechatProsody,
  readChannelEmojis,
  readChannelOptions,
  readLivechatTokens,
  readRoomChannels,
  roomConfigFromProsody,
  LuaTable,
  parseLuaReturn,
} from '../../src/import/livechat/index.js';
import { parse } from 'ltx';
import { FileArchive } from '../../src/storage/archive.js';

const data = (src: string) => new Map((parseLuaReturn(`return ${src}`) as LuaTable).entries());

test('room config: Prosody keys mapped, livechat defaults for keys never set, other keys kept aside', () => {
  const c = roomConfigFromProsody(
    data(`{ name = "N", description = "D", language = "fr", hidden = false, members_only = true,
    password = "pw", whois = "anyone", changesubject = true, history_length = 500, allow_member_invites = true, archiving = false,
    presence_broadcast = { moderator = true, participant = true }, slow_mode_duration = 5, moderation_delay = 2,
    anonymize_moderation_actions = true, mute_anonymous = true, livechat_emoji_only = false,
    livechat_custom_emoji_regexp = ":x:", livechat_muc_terms = "Be nice" }`),
    true,
  );
  assert.is(c.name, 'N');
  assert.is(c.description, 'D');
  assert.is(c.lang, 'fr');
  assert.is(c.public, true);
  assert.is(c.membersOnly, true);
  assert.is(c.password, 'pw');
  assert.is(c.whois, 'anyone');
  assert.is(c.changeSubject, true);
  assert.is(c.historyLength, 100, 'clamped to the service maximum');
  assert.is(
    roomConfigFromProsody(data('{ history_length = 40 }'), true, 30).historyLength,
    30,
    'a lower service maximum',
  );
  assert.is(c.allowInvites, true);
  assert.is(c.enableArchiving, false);
  assert.equal(c.presenceBroadcast, ['moderator', 'participant']);
  assert.is(c.slowModeDuration, 5);
  assert.is(c.moderationDelay, 2);
  assert.is(c.anonymizeModerationActions, true);
  assert.is(c.muteAnonymous, true);
  assert.is(c.emojiOnly, false);
  assert.equal(
    c.livechatProsody,
    { livechat_custom_emoji_regexp: ':x:', livechat_muc_terms: 'Be nice' },
    'options with no feature here kept aside',
  );
  const d = roomConfigFromProsody(new Map(), false);
  assert.is(d.public, false, "livechat's rooms are hidden unless changed");
  assert.is(d.whois, 'moderators');
  assert.is(d.historyLength, 20);
  assert.is(d.enableArchiving, false, 'follows log-by-default when the room never chose');
  assert.is(d.persistent, true);
  assert.is(d.livechatProsody, undefined);
});

test('affiliations with reserved nicknames; unknown values dropped', () => {
  const affs = affiliationsFromProsody({
    jid: 'r@room.x',
    data: new Map(),
    reservedNicks: new Map([['bob@x', 'Bobby']]),
    affiliations: new Map([
      ['Alice@x', 'owner'],
      ['bob@x', 'member'],
      ['eve@x', 'outcast'],
      ['z@x', 'king'],
      ['n@x', 'none'],
    ]),
  });
  assert.equal(affs, {
    'alice@x': { affiliation: 'owner' },
    'bob@x': { affiliation: 'member', nick: 'Bobby' },
    'eve@x': { affiliation: 'outcast' },
  });
});

test('archive records: groupchat messages only, real JID and occupant id read, stamp and muc#user dropped', () => {
  const node = (src: string) => {
    const e = parse(src);
    const conv = (x: any): any => ({
      name: x.name,
      attrs: { ...x.attrs },
      children: x.children.map((c: any) => (typeof c === 'string' ? c : conv(c))),
    });
    return conv(e);
  };
  const rec = archiveRecordFromProsody(
    node(
      `<message from="r@room.old/Al" type="groupchat" id="m1" stamp="2026-01-01T00:00:00Z"><body>hi</body>` +
        `<occupant-id xmlns="urn:xmpp:occupant-id:0" id="OID"/><x xmlns="http://jabber.org/protocol/muc#user"><item jid="al@x/res" affiliation="owner"/></x></message>`,
    ),
    100.5,
    'r@room.new',
  );
  assert.ok(rec);
  assert.is(rec!.ts, 100500);
  assert.is(rec!.nick, 'Al');
  assert.is(rec!.realJid, 'al@x');
  assert.is(rec!.occupantId, 'OID');
  assert.not.match(rec!.xml, /stamp=|muc#user/);
  assert.match(rec!.xml, /from="r@room.new\/Al"/);
  assert.is(
    archiveRecordFromProsody(node('<presence from="r@room.old/Al" type="unavailable"/>'), 1, 'r@room.new'),
    undefined,
  );
  // A message moderated on Prosody (mod_muc_moderation's tombstone) stays a tombstone, also in the current form.
  const t = archiveRecordFromProsody(
    node(
      `<message from="r@room.old/Al" type="groupchat" id="m2"><moderated xmlns="urn:xmpp:message-moderate:0" by="r@room.old/Mod">` +
        `<retracted xmlns="urn:xmpp:message-retract:0" stamp="2026-01-01T00:00:05Z"/><reason>spam</reason><occupant-id xmlns="urn:xmpp:occupant-id:0" id="MODID"/></moderated>` +
        `<occupant-id xmlns="urn:xmpp:occupant-id:0" id="OID"/></message>`,
    ),
    101,
    'r@room.new',
  );
  assert.ok(t, 'tombstone kept');
  assert.is(t!.occupantId, 'OID', "the author's occupant id, not the moderator's");
  const tx = parse(t!.xml);
  assert.is(tx.getChild('body'), undefined);
  const r1 = tx.getChild('retracted', 'urn:xmpp:message-retract:1');
  assert.ok(r1, 'current retraction form added');
  assert.is(r1!.attrs.stamp, '2026-01-01T00:00:05Z');
  assert.is(r1!.getChild('moderated', 'urn:xmpp:message-moderate:1')!.attrs.by, 'r@room.old/Mod');
  assert.is(r1!.getChildText('reason'), 'spam');
  assert.ok(tx.getChild('moderated', 'urn:xmpp:message-moderate:0'), 'Prosody form kept');
  assert.is(
    archiveRecordFromProsody(
      node(
        '<message from="r@room.old/Al" type="groupchat"><active xmlns="http://jabber.org/protocol/chatstates"/></message>',
      ),
      1,
      'r@room.new',
    ),
    undefined,
  );
  assert.is(
    archiveRecordFromProsody(
      node('<message from="r@room.old" type="groupchat"><body>no nick</body></message>'),
      1,
      'r@room.new',
    ),
    undefined,
  );
});

test('first start: imports once from <plugin data>/prosody/data; unreadable rooms reported, others imported', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lc-first-'));
  try {
    const plugin = join(dir, 'plugin');
    const ours = join(dir, 'ours');
    assert.is(
      await importLivechatOnFirstStart({ pluginDataDir: plugin, dataDir: ours, mucHost: 'room.x' }),
      null,
      'no livechat data: nothing',
    );
    const cfg = join(plugin, 'prosody', 'data', 'room%2ex', 'config');
    await mkdir(cfg, { recursive: true });
    await writeFile(
      join(cfg, 'a%2d1.dat'),
      'return { ["_jid"] = "a-1@room.x"; ["_data"] = { ["name"] = "A" }; ["u@x"] = "owner"; };',
    );
    await writeFile(join(cfg, 'broken.dat'), 'return { ["_jid"] = ');
    const log = join(plugin, 'prosody', 'data', 'room%2ex', 'muc_log');
    await mkdir(log);
    const msg = (key: string, body: string) =>
      `item({\n\t{\n\t\t"${body}";\n\t\t["name"] = "body";\n\t};\n\t["attr"] = { ["from"] = "a-1@room.x/N"; ["type"] = "groupchat"; ["id"] = "${key}" };\n` +
      `\t["key"] = "${key}"; ["with"] = "message<groupchat"; ["when"] = 1700000000; ["name"] = "message";\n});\n`;
    await writeFile(join(log, 'a%2d1.list'), msg('k1', 'one') + 'item({ ["key"] = os.exit() });\n' + msg('k2', 'two'));
    const r = await importLivechatOnFirstStart({ pluginDataDir: plugin, dataDir: ours, mucHost: 'room.x' });
    assert.ok(r);
    assert.equal(
      r!.rooms.map((x) => [x.jid, x.affiliations, x.messages, x.skipped]),
      [['a-1@room.x', 1, 2, undefined]],
      'the bad entry alone is skipped',
    );
    assert.is(r!.errors.length, 2);
    assert.match(r!.errors[0], /broken\.dat/);
    assert.match(r!.errors[1], /a%2d1\.list line 9/);
    const stored = JSON.parse(await readFile(join(ours, 'muc', 'a-1.json'), 'utf8'));
    assert.is(stored.config.name, 'A');
    assert.equal(stored.affiliations, { 'u@x': { affiliation: 'owner' } });
    assert.is(
      await importLivechatOnFirstStart({ pluginDataDir: plugin, dataDir: ours, mucHost: 'room.x' }),
      null,
      'recorded: not again',
    );
    // An import that stopped half-way (archive written, room file not yet): the next run redoes that room's archive
    // instead of keeping a partial one or adding the messages twice.
    await rm(join(ours, 'muc', 'a-1.json'));
    const again = await importLivechatProsody({
      prosodyDataDir: join(plugin, 'prosody', 'data'),
      dataDir: ours,
      mucHost: 'room.x',
    });
    assert.equal(
      again.rooms.map((x) => [x.jid, x.messages]),
      [['a-1@room.x', 2]],
    );
    const arch = new FileArchive(ours, { expiry: 'never' });
    const ra = await arch.open('a-1@room.x');
    assert.is(ra.stats().messages, 2, 'two messages, not four');
    await arch.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("livechat's own files: room-channel map, channel options, emojis, tokens decrypted with the secret key", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lc-layout-'));
  try {
    await mkdir(join(dir, 'room-channel'), { recursive: true });
    await writeFile(
      join(dir, 'room-channel', 'room.x.json'),
      JSON.stringify({ 3: ['a@room.x', 'b@room.x', 7], bad: ['c@room.x'] }),
    );
    assert.equal([...(await readRoomChannels(dir, 'room.x'))], [[3, ['a@room.x', 'b@room.x']]]);
    assert.equal([...(await readRoomChannels(dir, 'room.none'))], []);
    await mkdir(join(dir, 'channelConfigurationOptions'));
    await writeFile(join(dir, 'channelConfigurationOptions', '3.json'), '{"slowMode":{"duration":5}}');
    assert.equal(await readChannelOptions(dir, 3), { slowMode: { duration: 5 } });
    assert.is(await readChannelOptions(dir, 4), undefined);
    assert.throws(() => readChannelOptions(dir, '../3'));
    await mkdir(join(dir, 'emojis', 'channel', '3'), { recursive: true });
    await writeFile(join(dir, 'emojis', 'channel', '3', 'definition.json'), '{"customEmojis":[]}');
    assert.equal((await readChannelEmojis(dir, 3))?.definition, { customEmojis: [] });
    // A token file as livechat writes it: iv hex ':' aes-256-cbc hex, key = its stored 32-character secret.
    const key = randomBytes(16).toString('hex');
    const iv = randomBytes(16);
    const c = createCipheriv('aes-256-cbc', key, iv);
    const enc = c.update('s3cret-pass', 'utf8', 'hex') + c.final('hex');
    await mkdir(join(dir, 'tokens'));
    await writeFile(
      join(dir, 'tokens', 'al@x.json'),
      JSON.stringify({
        userId: 9,
        tokens: [{ id: 1, date: 2, label: 'OBS', encryptedPassword: `${iv.toString('hex')}:${enc}` }],
      }),
    );
    assert.equal(await readLivechatTokens(dir, 'al@x', key), {
      userId: 9,
      tokens: [{ id: 1, date: 2, label: 'OBS', password: 's3cret-pass' }],
    });
    assert.is(await readLivechatTokens(dir, 'nobody@x', key), undefined);
    await readLivechatTokens(dir, '../al@x', key).then(
      () => assert.unreachable('path accepted'),
      () => {},
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
