// Unit tests of the replay tool itself (no server): script parsing, stanza matching, waivers.
// The end-to-end check of the tool is scansion.test.ts with SCANSION_TARGET=prosody.
import { parse } from 'ltx';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { matchStanza, type MatchOptions } from './match.js';
import { parseScript } from './parse.js';
import { elementFilter, waiversFor, type Waiver } from './waivers.js';

const m = (expected: string, received: string, caps = new Map<string, string>(), opts: MatchOptions = {}) =>
  matchStanza(parse(expected), parse(received), caps, opts);
const ok = (expected: string, received: string) => {
  const r = m(expected, received);
  assert.ok(r.ok, r.ok ? '' : r.reason);
};
const bad = (expected: string, received: string, why: RegExp) => {
  const r = m(expected, received);
  assert.not.ok(r.ok, 'should not match');
  if (!r.ok) assert.match(r.reason, why);
};

test('loose stanza: extra attributes and children are ignored, child order too', () => {
  ok('<presence/>', '<presence xmlns="jabber:client" from="a@b/c" to="d@e/f"><priority>1</priority></presence>');
  ok(
    '<message type="chat"><body>Hi</body><thread>t</thread></message>',
    '<message xmlns="jabber:client" type="chat" id="1"><thread>t</thread><active xmlns="http://jabber.org/protocol/chatstates"/><body>Hi</body></message>',
  );
});

test('loose stanza: missing attribute, wrong value, missing child, wrong text fail', () => {
  bad('<presence type="unavailable"/>', '<presence xmlns="jabber:client"/>', /missing attribute type/);
  bad(
    '<message type="chat"/>',
    '<message xmlns="jabber:client" type="groupchat"/>',
    /expected "chat", got "groupchat"/,
  );
  bad('<message><subject/></message>', '<message xmlns="jabber:client"><body>x</body></message>', /no <subject> child/);
  bad(
    '<message><body>Hello</body></message>',
    '<message xmlns="jabber:client"><body>Bye</body></message>',
    /text expected "Hello"/,
  );
  bad('<iq/>', '<message xmlns="jabber:client"/>', /expected <iq>, got <message>/);
});

test('each expected child needs its own received child', () => {
  bad(
    '<x xmlns="ns" scansion:strict="false"><status code="1"/><status code="1"/></x>',
    '<x xmlns="ns"><status code="1"/><status code="2"/></x>',
    /code/,
  );
  ok(
    '<x xmlns="ns" scansion:strict="false"><status code="2"/><status code="1"/></x>',
    '<x xmlns="ns"><status code="1"/><status code="2"/></x>',
  );
});

test('namespaced payloads are strict: exact attributes, same children in order', () => {
  const rec =
    '<presence xmlns="jabber:client"><x xmlns="http://jabber.org/protocol/muc#user"><status code="201"/><item affiliation="owner" role="moderator"/><status code="110"/></x></presence>';
  ok(
    '<presence><x xmlns="http://jabber.org/protocol/muc#user"><status code="201"/><item affiliation="owner" role="moderator"/><status code="110"/></x></presence>',
    rec,
  );
  bad(
    '<presence><x xmlns="http://jabber.org/protocol/muc#user"><status code="110"/><item affiliation="owner" role="moderator"/><status code="201"/></x></presence>',
    rec,
    /expected "110", got "201"/,
  );
  bad(
    '<presence><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="owner" role="moderator"/></x></presence>',
    rec,
    /expected 1 child/,
  );
  bad(
    '<presence><x xmlns="http://jabber.org/protocol/muc#user"><status code="201"/><item affiliation="owner"/><status code="110"/></x></presence>',
    rec,
    /unexpected attribute role/,
  );
  // ... and the override relaxes it, for the element and what it contains.
  ok(
    '<presence><x xmlns="http://jabber.org/protocol/muc#user" scansion:strict="false"><status code="110"/><item affiliation="owner"/></x></presence>',
    rec,
  );
});

test('scansion:strict="true" on a payload with no children means exactly empty', () => {
  const exp =
    '<iq><query xmlns="http://jabber.org/protocol/disco#info" node="x-roomuser-item" scansion:strict="true"/></iq>';
  ok(
    exp,
    '<iq xmlns="jabber:client"><query xmlns="http://jabber.org/protocol/disco#info" node="x-roomuser-item"/></iq>',
  );
  bad(
    exp,
    '<iq xmlns="jabber:client"><query xmlns="http://jabber.org/protocol/disco#info" node="x-roomuser-item"><identity category="conference" name="Romeo" type="text"/></query></iq>',
    /expected 0 child/,
  );
});

test('a jabber:client element inside a payload is matched loosely again', () => {
  ok(
    '<message><result xmlns="urn:xmpp:mam:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" type="chat"><body>Hi</body></message></forwarded></result></message>',
    '<message xmlns="jabber:client"><result xmlns="urn:xmpp:mam:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" type="chat" id="x"><body>Hi</body><origin-id xmlns="urn:xmpp:sid:0" id="y"/></message></forwarded></result></message>',
  );
});

test('namespaces are compared after resolution', () => {
  bad(
    '<iq><query xmlns="jabber:iq:roster"/></iq>',
    '<iq xmlns="jabber:client"><query xmlns="jabber:iq:version"/></iq>',
    /namespace/,
  );
  ok('<presence/>', '<presence/>'); // TCP: no xmlns on the stanza, it inherits jabber:client
  bad('<presence/>', '<presence xmlns="jabber:server"/>', /namespace/);
});

test('{scansion:any} and captures', () => {
  ok('<message id="{scansion:any}"/>', '<message xmlns="jabber:client" id="abc"/>');
  bad('<message id="{scansion:any}"/>', '<message xmlns="jabber:client"/>', /missing attribute id/);
  const caps = new Map<string, string>();
  const first = m(
    '<iq><end xmlns="urn:x" id="{scansion:capture:last}"/></iq>',
    '<iq xmlns="jabber:client"><end xmlns="urn:x" id="42"/></iq>',
    caps,
  );
  assert.ok(first.ok);
  assert.is(first.ok && first.captures.get('last'), '42');
  assert.is(caps.size, 0, 'captures are returned, not written, so a failed match leaves none behind');
  const same = m(
    '<message><r xmlns="urn:x" id="{scansion:capture:last}"/></message>',
    '<message xmlns="jabber:client"><r xmlns="urn:x" id="42"/></message>',
    new Map([['last', '42']]),
  );
  assert.ok(same.ok);
  const other = m(
    '<message><r xmlns="urn:x" id="{scansion:capture:last}"/></message>',
    '<message xmlns="jabber:client"><r xmlns="urn:x" id="43"/></message>',
    new Map([['last', '42']]),
  );
  assert.not.ok(other.ok);
});

test('element waivers drop expected elements (and, in strict parents, the received ones)', () => {
  const exp =
    '<presence><x xmlns="vcard-temp:x:update"><photo/></x><x xmlns="http://jabber.org/protocol/muc#user"><item role="participant"/></x></presence>';
  const rec =
    '<presence xmlns="jabber:client"><x xmlns="http://jabber.org/protocol/muc#user"><item role="participant"/></x></presence>';
  assert.not.ok(m(exp, rec).ok);
  const table: Waiver[] = [
    { scope: 'element', file: 'f.scs', ns: 'vcard-temp:x:update', reason: 'r', targets: ['ours'] },
  ];
  const w = waiversFor('f.scs', 'ours', table);
  assert.ok(m(exp, rec, new Map(), { ignoreExpected: elementFilter(w.elements) }).ok);
  assert.is(waiversFor('f.scs', 'prosody', table).elements.length, 0, 'target-scoped');
  assert.is(waiversFor('g.scs', 'ours', table).elements.length, 0, 'file-scoped');
});

test('parser: clients, steps with line numbers, blocks, receives: nothing', () => {
  const s = parseScript(
    [
      '# Title here',
      '',
      "[Client] Juliet's phone",
      '\tjid: juliet@localhost',
      '\tpassword: pw',
      '\tresource: mobile',
      '',
      '[Client] Romeo',
      '\tjid: romeo@localhost/abc',
      '\tpassword: pw',
      '',
      '-----',
      '',
      'Romeo connects',
      '',
      'Romeo sends:',
      '\t<message to="${Juliet\'s phone\'s full JID}">',
      '\t\t<body>x</body>',
      '\t</message>',
      '',
      '# a comment',
      "Juliet's phone receives:",
      '\t<message/>',
      '',
      'Romeo receives: nothing',
      'Romeo disconnects',
      '',
    ].join('\n'),
  );
  assert.is(s.title, 'Title here');
  assert.is(s.clients.get("Juliet's phone")?.resource, 'mobile');
  assert.is(s.clients.get('Romeo')?.resource, 'abc');
  assert.equal(
    s.steps.map((x) => [x.kind, x.client, x.line]),
    [
      ['connect', 'Romeo', 14],
      ['send', 'Romeo', 16],
      ['receive', "Juliet's phone", 22],
      ['receive-nothing', 'Romeo', 25],
      ['disconnect', 'Romeo', 26],
    ],
  );
  const send = s.steps[1];
  assert.ok(send.kind === 'send' && send.xml.includes('<body>x</body>'));
  assert.throws(() => parseScript('[Client] A\n\tjid: a@b\n---\nB connects\n'), /unknown client "B"/);
});

test.run();
