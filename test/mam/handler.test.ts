// MAM on a real file archive: result messages as XEP-0313 shows them, the RSM set in <fin/>, paging, flip-page,
// access rules (real JIDs, filters), metadata, errors; and which messages are archived in what form.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'ltx';
import { FileArchive } from '../../src/storage/archive.js';
import type { RoomArchive } from '../../src/storage/room-archive.js';
import { handleMamIq, MamAccess } from '../../src/mam/handler.js';
import { isArchivable, prepareForArchive } from '../../src/mam/archivable.js';
import { parseDateTime } from '../../src/mam/datetime.js';
import { StanzaError } from '../../src/xmpp/errors.js';
import { Element } from '../../src/xmpp/xml.js';
import type { MamResult } from '../../src/mam/result-stanza.js';

const ROOM = 'coven@chat.shakespeare.lit';
const READER = 'hag66@shakespeare.lit/pda';
const T0 = Date.UTC(2030, 0, 1, 12);
const ANYONE: MamAccess = { canRead: true, showRealJids: false, canFilterByJid: false };
const OWNER: MamAccess = { canRead: true, showRealJids: true, canFilterByJid: true };

let dir: string;
let archive: FileArchive;
let ra: RoomArchive;
const ids: string[] = [];

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mam-test-'));
  archive = new FileArchive(dir, { expiry: 'never', segmentMessages: 16, hotTail: 8 });
  ra = await archive.open(ROOM);
  for (let i = 0; i < 60; i++) {
    const nick = i % 2 ? 'firstwitch' : 'secondwitch';
    // A spoofed muc#user <x> and stanza-id in the stored XML must never reach readers.
    const xml =
      `<message xmlns="jabber:client" from="${ROOM}/${nick}" to="someone@else" id="m${i}" type="groupchat"><body>line ${i}</body>` +
      `<x xmlns="http://jabber.org/protocol/muc#user"><item jid="spoof@evil"/></x><stanza-id xmlns="urn:xmpp:sid:0" id="fake" by="${ROOM}"/></message>`;
    ids.push(
      ra.append({ ts: T0 + i * 1000, nick, occupantId: `occ-${nick}`, realJid: `${nick}@shakespeare.lit/broom`, xml })
        .id,
    );
  }
  await ra.flush();
});

test.after(async () => {
  await archive.close();
  await rm(dir, { recursive: true, force: true });
});

function query(inner: string, type = 'set'): Element {
  return parse(`<iq xmlns="jabber:client" type="${type}" id="q29302" from="${READER}" to="${ROOM}">${inner}</iq>`);
}

/** The results as the requester's client parses them (`sent`) and as prepared stanzas (`results`). */
async function run(
  inner: string,
  access = ANYONE,
  type = 'set',
): Promise<{ sent: Element[]; results: MamResult[]; reply: Element }> {
  const results: MamResult[] = [];
  const reply = await handleMamIq(query(inner, type), ra, access, (r) => results.push(r), {
    archiveJid: ROOM,
    maxPage: 25,
  });
  return { sent: results.map((r) => parse(r.forClient())), results, reply };
}

const rsm = (x: string) => `<set xmlns="http://jabber.org/protocol/rsm">${x}</set>`;
const form = (fields: string) =>
  `<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>urn:xmpp:mam:2</value></field>${fields}</x>`;

test('result messages have the structure of XEP-0313 example "Server returns MUC messages"', async () => {
  const { sent, reply } = await run(`<query xmlns="urn:xmpp:mam:2" queryid="g27">${rsm('<max>3</max>')}</query>`);
  assert.is(sent.length, 3);
  const m = sent[0];
  assert.is(m.name, 'message');
  assert.is(m.attrs.to, READER);
  assert.is(m.attrs.from, ROOM);
  const result = m.getChild('result', 'urn:xmpp:mam:2')!;
  assert.ok(result);
  assert.is(result.attrs.queryid, 'g27');
  assert.is(result.attrs.id, ids[0]);
  const fwd = result.getChild('forwarded', 'urn:xmpp:forward:0')!;
  const delay = fwd.getChild('delay', 'urn:xmpp:delay')!;
  assert.is(parseDateTime(delay.attrs.stamp), T0);
  const inner = fwd.getChild('message')!;
  assert.is(inner.attrs.xmlns, 'jabber:client');
  assert.is(inner.attrs.to, undefined, 'forwarded message has no to');
  assert.is(inner.attrs.from, `${ROOM}/secondwitch`);
  assert.is(inner.getChildText('body'), 'line 0');
  assert.is(
    inner.getChild('x', 'http://jabber.org/protocol/muc#user'),
    undefined,
    'no real JID for this reader, spoof stripped',
  );
  const sids = inner.getChildren('stanza-id', 'urn:xmpp:sid:0');
  assert.is(sids.length, 1);
  assert.equal(sids[0].attrs, { xmlns: 'urn:xmpp:sid:0', id: ids[0], by: ROOM });

  assert.is(reply.attrs.type, 'result');
  assert.is(reply.attrs.id, 'q29302');
  assert.is(reply.attrs.to, READER);
  const fin = reply.getChild('fin', 'urn:xmpp:mam:2')!;
  assert.is(fin.attrs.complete, undefined, 'more pages remain');
  const set = fin.getChild('set', 'http://jabber.org/protocol/rsm')!;
  assert.is(set.getChildText('first'), ids[0]);
  assert.is(set.getChild('first')!.attrs.index, '0');
  assert.is(set.getChildText('last'), ids[2]);
  assert.is(set.getChildText('count'), '60');
});

test('real JIDs only for readers allowed by whois', async () => {
  const { sent } = await run(`<query xmlns="urn:xmpp:mam:2">${rsm('<max>1</max>')}</query>`, OWNER);
  const x = sent[0]
    .getChild('result')!
    .getChild('forwarded')!
    .getChild('message')!
    .getChildren('x', 'http://jabber.org/protocol/muc#user');
  assert.is(x.length, 1);
  assert.is(x[0].getChild('item')!.attrs.jid, 'secondwitch@shakespeare.lit/broom');
});

test('paging forward to the end, the last page, and flip-page', async () => {
  const seen: string[] = [];
  let after = '';
  for (let page = 0; page < 10; page++) {
    const { sent, reply } = await run(
      `<query xmlns="urn:xmpp:mam:2">${rsm(`<max>25</max>${after ? `<after>${after}</after>` : ''}`)}</query>`,
    );
    seen.push(...sent.map((s) => s.getChild('result')!.attrs.id));
    const fin = reply.getChild('fin')!;
    if (fin.attrs.complete === 'true') break;
    after = fin.getChild('set')!.getChildText('last')!;
  }
  assert.equal(seen, ids);

  const last = await run(`<query xmlns="urn:xmpp:mam:2">${rsm('<max>5</max><before/>')}</query>`);
  assert.equal(
    last.sent.map((s) => s.getChild('result')!.attrs.id),
    ids.slice(-5),
  );
  const flipped = await run(`<query xmlns="urn:xmpp:mam:2">${rsm('<max>5</max><before/>')}<flip-page/></query>`);
  assert.equal(
    flipped.sent.map((s) => s.getChild('result')!.attrs.id),
    ids.slice(-5).reverse(),
  );
  assert.is(
    flipped.reply.getChild('fin')!.getChild('set')!.getChildText('first'),
    ids[55],
    'RSM first/last stay chronological',
  );

  const capped = await run(`<query xmlns="urn:xmpp:mam:2">${rsm('<max>1000</max>')}</query>`);
  assert.is(capped.sent.length, 25, 'server page limit');
  const all = await run(
    `<query xmlns="urn:xmpp:mam:2">${form(`<field var="start"><value>2030-01-01T12:00:50Z</value></field>`)}</query>`,
  );
  assert.is(all.sent.length, 10);
  assert.is(all.reply.getChild('fin')!.attrs.complete, 'true');
});

test('with: occupant JID for anyone, real JID and occupant-id only for owners/admins', async () => {
  const byNick = await run(
    `<query xmlns="urn:xmpp:mam:2">${form(`<field var="with"><value>${ROOM}/firstwitch</value></field>`)}</query>`,
  );
  assert.is(byNick.sent.length, 25);
  assert.ok(
    byNick.sent.every(
      (s) => s.getChild('result')!.getChild('forwarded')!.getChild('message')!.attrs.from === `${ROOM}/firstwitch`,
    ),
  );
  for (const f of [
    `<field var="with"><value>firstwitch@shakespeare.lit</value></field>`,
    `<field var="{urn:xmpp:occupant-id:0}occupant-id"><value>occ-firstwitch</value></field>`,
  ]) {
    try {
      await run(`<query xmlns="urn:xmpp:mam:2">${form(f)}</query>`);
      assert.unreachable('filter by real JID allowed to a participant');
    } catch (err) {
      assert.is((err as StanzaError).condition, 'forbidden');
    }
    const ok = await run(`<query xmlns="urn:xmpp:mam:2">${form(f)}${rsm('<max>100</max>')}</query>`, OWNER);
    assert.is(ok.sent.length, 25);
    assert.is(ok.reply.getChild('fin')!.attrs.complete, undefined, 'limited by the server page');
  }
  const search = await run(
    `<query xmlns="urn:xmpp:mam:2#x-search" queryid="s"><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>urn:xmpp:mam:2#x-search</value></field><field var="occupant_id"><value>occ-secondwitch</value></field></x>${rsm('<max>10</max><before/>')}</query>`,
    OWNER,
  );
  assert.equal(
    search.sent.map((s) => s.getChild('result', 'urn:xmpp:mam:2')!.attrs.id),
    ids.filter((_, i) => i % 2 === 0).slice(-10),
  );
});

test('errors: unknown ids, no access', async () => {
  for (const inner of [
    rsm(`<after>${ids[3]}x</after>`),
    form(`<field var="before-id"><value>nope</value></field>`),
    form(`<field var="ids"><value>${ids[1]}</value><value>zz</value></field>`),
  ]) {
    try {
      await run(`<query xmlns="urn:xmpp:mam:2">${inner}</query>`);
      assert.unreachable(inner);
    } catch (err) {
      assert.is((err as StanzaError).condition, 'item-not-found');
    }
  }
  try {
    await run('<query xmlns="urn:xmpp:mam:2"/>', { ...ANYONE, canRead: false });
    assert.unreachable();
  } catch (err) {
    assert.is((err as StanzaError).condition, 'forbidden');
  }
});

test('ids, before-id/after-id, form and metadata', async () => {
  const picked = await run(
    `<query xmlns="urn:xmpp:mam:2">${form(`<field var="ids"><value>${ids[40]}</value><value>${ids[7]}</value></field>`)}</query>`,
  );
  assert.equal(
    picked.sent.map((s) => s.getChild('result')!.attrs.id),
    [ids[7], ids[40]],
  );
  const between = await run(
    `<query xmlns="urn:xmpp:mam:2">${form(`<field var="after-id"><value>${ids[10]}</value></field><field var="before-id"><value>${ids[14]}</value></field>`)}</query>`,
  );
  assert.equal(
    between.sent.map((s) => s.getChild('result')!.attrs.id),
    ids.slice(11, 14),
  );
  const f = (await run('<query xmlns="urn:xmpp:mam:2"/>', ANYONE, 'get')).reply;
  assert.is(f.getChild('query', 'urn:xmpp:mam:2')!.getChild('x', 'jabber:x:data')!.attrs.type, 'form');
  const md = (await run('<metadata xmlns="urn:xmpp:mam:2"/>', ANYONE, 'get')).reply.getChild(
    'metadata',
    'urn:xmpp:mam:2',
  )!;
  assert.is(md.getChild('start')!.attrs.id, ids[0]);
  assert.is(md.getChild('end')!.attrs.id, ids[59]);
  assert.is(parseDateTime(md.getChild('end')!.attrs.timestamp), T0 + 59_000);
});

test('what is archived, and in what form', () => {
  const m = (x: string, type = 'groupchat') =>
    parse(`<message xmlns="jabber:client" type="${type}" from="${ROOM}/a">${x}</message>`);
  assert.ok(isArchivable(m('<body>hi</body>')));
  assert.ok(isArchivable(m('<subject>topic</subject>')));
  assert.ok(isArchivable(m('<retract xmlns="urn:xmpp:message-retract:1" id="x"/>')));
  assert.not.ok(isArchivable(m('<body>hi</body><no-store xmlns="urn:xmpp:hints"/>')));
  assert.not.ok(isArchivable(m('<body>hi</body><no-permanent-store xmlns="urn:xmpp:hints"/>')));
  assert.not.ok(isArchivable(m('<active xmlns="http://jabber.org/protocol/chatstates"/>')));
  assert.not.ok(isArchivable(m('<body>pm</body>', 'chat')));
  const stored = parse(
    prepareForArchive(
      parse(
        `<message to="x@y" from="${ROOM}/a" type="groupchat"><body>b</body><x xmlns="http://jabber.org/protocol/muc#user"/><stanza-id xmlns="urn:xmpp:sid:0" by="${ROOM}" id="1"/><stanza-id xmlns="urn:xmpp:sid:0" by="other" id="2"/></message>`,
      ),
      ROOM,
    ),
  );
  assert.is(stored.attrs.to, undefined);
  assert.is(stored.attrs.xmlns, 'jabber:client');
  assert.is(stored.getChild('x'), undefined);
  assert.equal(
    stored.getChildren('stanza-id').map((s) => s.attrs.by),
    ['other'],
  );
});

/** A tree as a client stream serializes it: xmlns="jabber:client" first, as the text of a result has it. */
const clientText = (e: Element) => {
  const copy = new Element(e.name, { xmlns: 'jabber:client', ...e.attrs });
  copy.children = e.children;
  return copy.toString();
};
const spliced = (r: MamResult) => Buffer.concat([r.spliceHead(), r.spliceMid(), r.spliceTail()]).toString();

test('a result message as text, as bytes and as a tree is the same stanza (escaping included)', async () => {
  const { sent, results } = await run(
    `<query xmlns="urn:xmpp:mam:2" queryid="q&amp;&quot;&lt;1&apos;é">${rsm('<max>3</max>')}</query>`,
    OWNER,
  );
  assert.is(sent.length, 3);
  for (const r of results) {
    assert.is(r.forClient(), clientText(r.toElement()));
    assert.is(spliced(r), r.forClient());
    assert.is(r.forServer(), r.forClient().replace('xmlns="jabber:client"', 'xmlns="jabber:server"'));
    assert.is(parse(r.forClient()).getChild('result')!.attrs.queryid, `q&"<1'é`);
    // No id of its own (as Prosody's results): nothing in a result is made per result.
    assert.ok(r.forClient().startsWith(`<message xmlns="jabber:client" to="${READER}" from="${ROOM}"><result `));
  }
  // Readers of the same message and view share its id and <forwarded/> bytes; the head is the query's, one buffer
  // for all its results.
  const again = await run(`<query xmlns="urn:xmpp:mam:2" queryid="other">${rsm('<max>3</max>')}</query>`, OWNER);
  assert.is(again.results[0].spliceMid(), results[0].spliceMid());
  assert.is(again.results[0].spliceTail(), results[0].spliceTail());
  assert.is(results[1].spliceHead(), results[0].spliceHead(), 'a head made per result');
  assert.is(results[2].spliceHead(), results[0].spliceHead(), 'a head made per result');
  assert.is.not(again.results[0].spliceHead(), results[0].spliceHead());
  // The next query's messages (no queryid) do not inherit the previous query's text.
  const next = await run(`<query xmlns="urn:xmpp:mam:2">${rsm('<max>1</max>')}</query>`);
  assert.is(next.results[0].forClient(), clientText(next.results[0].toElement()));
  assert.is(spliced(next.results[0]), next.results[0].forClient());
  assert.not.ok(next.results[0].forClient().includes('queryid'));
});

test('the same page asked again: real JIDs stay per view, the same bytes, a retraction shows', async () => {
  const page = `<query xmlns="urn:xmpp:mam:2">${rsm('<max>2</max><before/>')}</query>`;
  const text = (sent: Element[]) => sent.map((m) => m.toString());
  const first = await run(page);
  const owner = await run(page, OWNER);
  const again = await run(page);
  assert.ok(text(owner.sent)[1].includes('firstwitch@shakespeare.lit/broom'), 'owner view names the sender');
  assert.not.ok(text(again.sent)[1].includes('@shakespeare.lit/broom'), 'the public view never does');
  assert.equal(text(again.sent), text(first.sent), 'the same page, other bytes');
  assert.is(first.sent[0].attrs.id, undefined, 'a result message with an id of its own');
  const tomb = `<message xmlns="jabber:client" from="${ROOM}/firstwitch" type="groupchat" id="m59"><retracted xmlns="urn:xmpp:message-retract:1"/></message>`;
  assert.ok(await ra.retract(ids[59], tomb));
  for (const access of [ANYONE, OWNER]) {
    const after = text((await run(page, access)).sent)[1];
    assert.ok(after.includes('<retracted xmlns="urn:xmpp:message-retract:1"/>'), 'the tombstone, not the old text');
    assert.not.ok(after.includes('line 59'));
  }
});

test.run();
