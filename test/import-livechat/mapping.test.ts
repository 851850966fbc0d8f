// Prosody room data onto this server's rooms, the plugin's first-start import, and livechat's own data files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  affiliationsFromProsody, archiveRecordFromProsody, importLivechatOnFirstStart, readChannelEmojis, readChannelOptions,
  readLivechatTokens, readRoomChannels, roomConfigFromProsody, LuaTable, parseLuaReturn,
} from '../../src/import/livechat/index.js';
import { parse } from 'ltx';

const data = (src: string) => new Map((parseLuaReturn(`return ${src}`) as LuaTable).entries());

test('room config: Prosody keys mapped, livechat defaults for keys never set, other keys kept aside', () => {
  const c = roomConfigFromProsody(data(`{ name = "N", description = "D", language = "fr", hidden = false, members_only = true,
    password = "pw", whois = "anyone", changesubject = true, history_length = 500, allow_member_invites = true, archiving = false,
    presence_broadcast = { moderator = true, participant = true }, slow_mode_duration = 5, moderation_delay = 2 }`), true);
  assert.is(c.name, 'N');
  assert.is(c.description, 'D');
  assert.is(c.lang, 'fr');
  assert.is(c.public, true);
  assert.is(c.membersOnly, true);
  assert.is(c.password, 'pw');
  assert.is(c.whois, 'anyone');
  assert.is(c.changeSubject, true);
  assert.is(c.historyLength, 100, 'clamped to the service maximum');
  assert.is(c.allowInvites, true);
  assert.is(c.enableArchiving, false);
  assert.equal(c.presenceBroadcast, ['moderator', 'participant']);
  assert.equal(c.livechatProsody, { slow_mode_duration: 5, moderation_delay: 2 });
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
    jid: 'r@room.x', data: new Map(), reservedNicks: new Map([['bob@x', 'Bobby']]),
    affiliations: new Map([['Alice@x', 'owner'], ['bob@x', 'member'], ['eve@x', 'outcast'], ['z@x', 'king'], ['n@x', 'none']]),
  });
  assert.equal(affs, { 'alice@x': { affiliation: 'owner' }, 'bob@x': { affiliation: 'member', nick: 'Bobby' }, 'eve@x': { affiliation: 'outcast' } });
});

test('archive records: groupchat messages only, real JID and occupant id read, stamp and muc#user dropped', () => {
  const node = (src: string) => {
    const e = parse(src);
    const conv = (x: any): any => ({ name: x.name, attrs: { ...x.attrs }, children: x.children.map((c: any) => (typeof c === 'string' ? c : conv(c))) });
    return conv(e);
  };
  const rec = archiveRecordFromProsody(node(`<message from="r@room.old/Al" type="groupchat" id="m1" stamp="2026-01-01T00:00:00Z"><body>hi</body>` +
    `<occupant-id xmlns="urn:xmpp:occupant-id:0" id="OID"/><x xmlns="http://jabber.org/protocol/muc#user"><item jid="al@x/res" affiliation="owner"/></x></message>`), 100.5, 'r@room.new');
  assert.ok(rec);
  assert.is(rec!.ts, 100500);
  assert.is(rec!.nick, 'Al');
  assert.is(rec!.realJid, 'al@x');
  assert.is(rec!.occupantId, 'OID');
  assert.not.match(rec!.xml, /stamp=|muc#user/);
  assert.match(rec!.xml, /from="r@room.new\/Al"/);
  assert.is(archiveRecordFromProsody(node('<presence from="r@room.old/Al" type="unavailable"/>'), 1, 'r@room.new'), undefined);
  assert.is(archiveRecordFromProsody(node('<message from="r@room.old/Al" type="groupchat"><active xmlns="http://jabber.org/protocol/chatstates"/></message>'), 1, 'r@room.new'), undefined);
  assert.is(archiveRecordFromProsody(node('<message from="r@room.old" type="groupchat"><body>no nick</body></message>'), 1, 'r@room.new'), undefined);
});

test('first start: imports once from <plugin data>/prosody/data; unreadable rooms reported, others imported', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lc-first-'));
  try {
    const plugin = join(dir, 'plugin');
    const ours = join(dir, 'ours');
    assert.is(await importLivechatOnFirstStart({ pluginDataDir: plugin, dataDir: ours, mucHost: 'room.x' }), null, 'no livechat data: nothing');
    const cfg = join(plugin, 'prosody', 'data', 'room%2ex', 'config');
    await mkdir(cfg, { recursive: true });
    await writeFile(join(cfg, 'a%2d1.dat'), 'return { ["_jid"] = "a-1@room.x"; ["_data"] = { ["name"] = "A" }; ["u@x"] = "owner"; };');
    await writeFile(join(cfg, 'broken.dat'), 'return { ["_jid"] = ');
    const log = join(plugin, 'prosody', 'data', 'room%2ex', 'muc_log');
    await mkdir(log);
    const msg = (key: string, body: string) => `item({\n\t{\n\t\t"${body}";\n\t\t["name"] = "body";\n\t};\n\t["attr"] = { ["from"] = "a-1@room.x/N"; ["type"] = "groupchat"; ["id"] = "${key}" };\n` +
      `\t["key"] = "${key}"; ["with"] = "message<groupchat"; ["when"] = 1700000000; ["name"] = "message";\n});\n`;
    await writeFile(join(log, 'a%2d1.list'), msg('k1', 'one') + 'item({ ["key"] = os.exit() });\n' + msg('k2', 'two'));
    const r = await importLivechatOnFirstStart({ pluginDataDir: plugin, dataDir: ours, mucHost: 'room.x' });
    assert.ok(r);
    assert.equal(r!.rooms.map((x) => [x.jid, x.affiliations, x.messages, x.skipped]), [['a-1@room.x', 1, 2, undefined]], 'the bad entry alone is skipped');
    assert.is(r!.errors.length, 2);
    assert.match(r!.errors[0], /broken\.dat/);
    assert.match(r!.errors[1], /a%2d1\.list line 9/);
    const stored = JSON.parse(await readFile(join(ours, 'muc', 'a-1.json'), 'utf8'));
    assert.is(stored.config.name, 'A');
    assert.equal(stored.affiliations, { 'u@x': { affiliation: 'owner' } });
    assert.is(await importLivechatOnFirstStart({ pluginDataDir: plugin, dataDir: ours, mucHost: 'room.x' }), null, 'recorded: not again');
  } finally { await rm(dir, { recursive: true, force: true }); }
});

test("livechat's own files: room-channel map, channel options, emojis, tokens decrypted with the secret key", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lc-layout-'));
  try {
    await mkdir(join(dir, 'room-channel'), { recursive: true });
    await writeFile(join(dir, 'room-channel', 'room.x.json'), JSON.stringify({ 3: ['a@room.x', 'b@room.x', 7], bad: ['c@room.x'] }));
    assert.equal([...await readRoomChannels(dir, 'room.x')], [[3, ['a@room.x', 'b@room.x']]]);
    assert.equal([...await readRoomChannels(dir, 'room.none')], []);
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
    await writeFile(join(dir, 'tokens', 'al@x.json'), JSON.stringify({ userId: 9, tokens: [{ id: 1, date: 2, label: 'OBS', encryptedPassword: `${iv.toString('hex')}:${enc}` }] }));
    assert.equal(await readLivechatTokens(dir, 'al@x', key), { userId: 9, tokens: [{ id: 1, date: 2, label: 'OBS', password: 's3cret-pass' }] });
    assert.is(await readLivechatTokens(dir, 'nobody@x', key), undefined);
    await readLivechatTokens(dir, '../al@x', key).then(() => assert.unreachable('path accepted'), () => {});
  } finally { await rm(dir, { recursive: true, force: true }); }
});

test.run();
