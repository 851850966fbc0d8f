// ownCopy: the flat copy a kept string is made from (request ids kept until acknowledged, nicks, room JIDs), through a
// scratch buffer for strings that survive UTF-8 and the JSON round trip for the rest. A copy must equal its original
// whatever it holds, or a resent answer would carry another id than its request's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ownCopy } from '../../src/xmpp/jid.js';

const frame = `<iq type="get" id="0f6c2d1e-9c57-4c63-a0d4-2f1f0cc4a6b2:sendIQ" to="é@room.localhost/ü😀 and more"/>`;

test('equal copies: short, ASCII, non-ASCII, astral, lone surrogates, longer than the scratch buffer', () => {
  const samples = [
    'short',
    frame.slice(18, 61), // a ConverseJS iq id, cut from its frame as a parser cuts attribute values
    frame.slice(67, 97), // an address with non-ASCII characters and an emoji
    'vc-1-é&<"\'😀 and some more text',
    'lone \ud800 high surrogate in a long enough string',
    'lone \udc00 low surrogate in a long enough string',
    'a'.repeat(341),
    'a'.repeat(342),
    'é'.repeat(400),
    '😀'.repeat(300),
  ];
  for (const s of samples) assert.is(ownCopy(s), s, JSON.stringify(s.slice(0, 30)));
});

test.run();
