// The bridge that puts the durable archive behind the MUC's RoomArchive and MucMamHandler interfaces.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'ltx';
import { FileArchive, encodeRoomDir } from '../../src/storage/archive.js';
import { MucArchiveBridge } from '../../src/mam/muc-bridge.js';
import type { MucMamRequest } from '../../src/muc/features/mam.js';
import type { Element } from '../../src/xmpp/xml.js';

const ROOM = 'lobby@room.localhost';
const bcast = (i: number, nick = 'alice') =>
  parse(`<message from="${ROOM}/${nick}" type="groupchat" id="c${i}"><body>hello ${i}</body></message>`);

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'bridge-test-'));
  const archive = new FileArchive(dir, { expiry: 'never', hotTail: 50 });
  const sent: Element[] = [];
  const bridge = new MucArchiveBridge(archive, { send: (r) => sent.push(parse(r.forClient())) });
  return {
    dir,
    archive,
    bridge,
    sent,
    cleanup: async () => {
      await archive.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test('append stamps the stanza-id, tail/get serve parsed stanzas, restart keeps them', async () => {
  const { dir, archive, bridge, cleanup } = await setup();
  try {
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const stanza = bcast(i);
      const id = bridge.append(ROOM, {
        ts: Date.now(),
        nick: 'alice',
        realJid: 'alice@localhost',
        occupantId: 'o1',
        stanza,
        persist: true,
      });
      assert.is(stanza.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id, id);
      assert.is(stanza.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.by, ROOM);
      ids.push(id);
    }
    await bridge.whenDurable(ROOM, ids[29]);
    const tail = bridge.tail(ROOM, 5);
    assert.equal(
      tail.map((e) => e.id),
      ids.slice(-5),
    );
    assert.is(tail[4].stanza.getChildText('body'), 'hello 29');
    assert.is(bridge.get(ROOM, ids[3])?.realJid, 'alice@localhost');

    const tomb = parse(
      `<message from="${ROOM}/alice" type="groupchat" id="c3"><retracted xmlns="urn:xmpp:message-retract:1"/></message>`,
    );
    assert.ok(bridge.retract(ROOM, ids[3], tomb));
    assert.not.ok(bridge.retract(ROOM, 'nope', tomb));
    await archive.flush();
    await archive.close();

    const archive2 = new FileArchive(dir, { expiry: 'never', hotTail: 50 });
    const bridge2 = new MucArchiveBridge(archive2, { send: () => undefined });
    await bridge2.warm(ROOM);
    const again = bridge2.tail(ROOM, 30);
    assert.equal(
      again.map((e) => e.id),
      ids,
    );
    assert.ok(again[3].stanza.getChild('retracted', 'urn:xmpp:message-retract:1'), 'tombstone after restart');
    assert.is(
      again[5].stanza.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id,
      ids[5],
      'stanza-id restored on parsed entries',
    );
    await archive2.close();
  } finally {
    await cleanup();
  }
});

test('rooms with archiving off keep history in memory only; a stale folder of a gone room is removed', async () => {
  const { dir, archive, bridge, cleanup } = await setup();
  try {
    const id = bridge.append(ROOM, {
      ts: Date.now(),
      nick: 'bob',
      realJid: 'bob@localhost',
      stanza: bcast(1, 'bob'),
      persist: false,
    });
    assert.equal(
      bridge.tail(ROOM, 10).map((e) => e.id),
      [id],
    );
    assert.is(archive.get(ROOM), undefined, 'nothing opened on disk');

    const stale = join(dir, 'archive', encodeRoomDir('gone@room.localhost'));
    await mkdir(stale, { recursive: true });
    await writeFile(join(stale, '0000000000000.seg'), 'junk');
    const warnings: string[] = [];
    const a2 = new FileArchive(dir, { expiry: 'never' }, { log: (_l, m) => warnings.push(m) });
    const b2 = new MucArchiveBridge(a2, { send: () => undefined });
    const nid = b2.append('gone@room.localhost', {
      ts: Date.now(),
      nick: 'c',
      realJid: 'c@localhost',
      stanza: bcast(2, 'c'),
      persist: true,
    });
    await b2.whenDurable('gone@room.localhost', nid);
    assert.ok(warnings.some((w) => w.includes('stale')));
    assert.equal(
      (await a2.get('gone@room.localhost')!.query({ max: 10 })).items.map((m) => m.id),
      [nid],
    );
    await a2.close();
    assert.not.ok(
      (await readdir(join(dir, 'archive'))).some((d) => d.startsWith('.stale')),
      'moved-aside folder deleted',
    );
  } finally {
    await cleanup();
  }
});

test('MAM through the bridge: access from the room (whois, affiliation)', async () => {
  const { bridge, sent, cleanup } = await setup();
  try {
    for (let i = 0; i < 5; i++)
      bridge.append(ROOM, {
        ts: Date.now(),
        nick: 'alice',
        realJid: 'alice@localhost',
        stanza: bcast(i),
        persist: true,
      });
    const room = {
      jid: ROOM,
      config: { whois: 'moderators' },
      affiliationOf: (bare: string) => (bare === 'owner@localhost' ? 'owner' : 'none'),
      occupantsOf: () => [],
    } as unknown as MucMamRequest['room'];
    const ask = (from: string, form = '') => {
      const iq = parse(
        `<iq type="set" id="1" from="${from}" to="${ROOM}"><query xmlns="urn:xmpp:mam:2">${form}</query></iq>`,
      );
      return bridge.query({ room, iq, query: iq.getChildElements()[0], from });
    };
    const fin = (await ask('viewer@localhost/r')) as Element;
    assert.is(fin.name, 'fin');
    assert.is(fin.attrs.complete, 'true');
    assert.is(sent.length, 5);
    const inner = sent[0].getChild('result')!.getChild('forwarded')!.getChild('message')!;
    assert.is(
      inner.getChild('x', 'http://jabber.org/protocol/muc#user'),
      undefined,
      'semi-anonymous: no real JID for a viewer',
    );
    const byJid = '<x xmlns="jabber:x:data" type="submit"><field var="with"><value>alice@localhost</value></field></x>';
    await ask('viewer@localhost/r', byJid).then(
      () => assert.unreachable('viewer filtered by real JID'),
      (e) => assert.is(e.condition, 'forbidden'),
    );
    sent.length = 0;
    await ask('owner@localhost/r', byJid);
    assert.is(sent.length, 5);
    assert.is(
      sent[0].getChild('result')!.getChild('forwarded')!.getChild('message')!.getChild('x')!.getChild('item')!.attrs
        .jid,
      'alice@localhost',
    );
  } finally {
    await cleanup();
  }
});

test.run();
