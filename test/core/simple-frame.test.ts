// The one-pass parser of simple framed messages (src/xmpp/simple-frame.ts) against saxes, the parser of record:
// every message is parsed by a framed stream parser as the server runs it and by one that only uses saxes, and both
// must give the same elements, the same stream error (or none) and the same boundary state. The inputs are the
// messages viewers send, hand-picked edge cases, and seeded random mutations of them; the common messages must
// take the one-pass path (else the test would pass with it switched off).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Element } from '../../src/xmpp/xml.js';
import { XmlStreamParser, type StreamParserOptions } from '../../src/xmpp/xml-stream.js';
import { parseSimpleFrame } from '../../src/xmpp/simple-frame.js';
import { StreamError } from '../../src/xmpp/errors.js';
import { rng } from '../fuzz/mutate.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const CASES = Number(process.env.SIMPLE_FRAME_CASES ?? 30_000);

const COMMON = [
  "<iq xmlns='jabber:client' type='get' id='v1' to='room@room.localhost/Tom &amp; &quot;Jerry&apos;s&quot; &lt;3&gt;'><vCard xmlns='vcard-temp'/></iq>",
  '<iq type="get" id="d1" to="room@room.localhost"><query xmlns="http://jabber.org/protocol/disco#info" node="x-roomuser-item"/></iq>',
  "<iq xmlns='jabber:client' type='set' id='q1' to='room@room.localhost'><query xmlns='urn:xmpp:mam:2' queryid='f'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field></x><set xmlns='http://jabber.org/protocol/rsm'><max>50</max><before/></set></query></iq>",
  "<presence xmlns='jabber:client' to='room@room.localhost/viewer 1'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>",
  "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='anon.localhost' version='1.0'/>",
  "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>",
  '<message to="room@room.localhost" type="groupchat" id="m1"><body>hé &amp; bye\n\tsee you ]] > soon</body></message>',
  '  <iq type="get" id="p1"><ping xmlns="urn:xmpp:ping"/></iq>\n',
  '<r xmlns="urn:xmpp:sm:3"/>',
];

const EDGE = [
  '<a/>',
  '<a></a>',
  '<a ></a >',
  "<a x = 'y' ></a>",
  '<a x="1"y="2"/>',
  '<a x="1" x="2"/>',
  '<a constructor="1"/>',
  '<a __proto__="1"/>',
  '<a toString="1"/>',
  '<a x="<"/>',
  '<a x=">"/>',
  '<a x="a\tb"/>',
  '<a x="a\nb"/>',
  '<a x="a&#32;b"/>',
  '<a x="&unknown;"/>',
  '<a x="&amp"/>',
  '<a x=y/>',
  "<a x='\"'/>",
  '<a>]]></a>',
  '<a>]]&gt;</a>',
  '<a>]&amp;]></a>',
  '<a>]></a>',
  '<a>x]]</a>',
  '<a><b></a></b>',
  '<a><b></a>',
  '<a></ab>',
  '<ab></a>',
  '<a></a><b/>',
  '<a/>x',
  'x<a/>',
  '<a/>\r\n',
  '<a>\r</a>',
  '<a>\u0001</a>',
  '<a>\u007f\u0085</a>',
  '<a>\ud83d\ude00</a>',
  '<a>\ud83d</a>',
  '<a>\ufffe</a>',
  '<a>\ufeff</a>',
  '\ufeff<a/>',
  '<a><!-- c --></a>',
  '<a><![CDATA[x]]></a>',
  '<a><?pi x?></a>',
  '<!DOCTYPE a><a/>',
  '<?xml version="1.0"?><a/>',
  '<a>&lt;&gt;&amp;&quot;&apos;</a>',
  '<a>&#x263A;</a>',
  '<a>&</a>',
  '<a>& </a>',
  '<é/>',
  '<a é="1"/>',
  '<p:a xmlns:p="u"/>',
  '<p:a/>',
  '<a xmlns:p=""/>',
  '<a xml:lang="en"/>',
  '<a xmlns=""/>',
  '<a-b.c_d e-f.g_h="1"/>',
  '<1a/>',
  '<a 1="2"/>',
  '<.a/>',
  '<a/ >',
  '< a/>',
  '<a',
  '<a x="1"',
  '<a>',
  '<a>text',
  '<a></',
  '',
  '   ',
  '<a><b><c><d><e><f><g><h/></g></f></e></d></c></b></a>',
  '<a><b><c><d><e><f><g/></f></e></d></c></b></a>',
  '<a>one<b/>two<c>three</c>four</a>',
  '<a> <b/> </a>',
  '<a xmlns="x"><b/></a>',
  '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing"/><iq/>',
];

const TOKENS = [
  '&',
  '<',
  '>',
  "'",
  '"',
  ']]>',
  ']]',
  '<![CDATA[x]]>',
  '<!--x-->',
  '<?x?>',
  '&#38;',
  '&amp;',
  '&lt',
  '/',
  '=',
  ' ',
  '\t',
  '\n',
  '\r',
  '\u0000',
  '\u0001',
  'é',
  '\ud83d\ude00',
  '\ud800',
  ':',
  'p:',
  '<a>',
  '</a>',
  '<b/>',
  'x="1"',
];

/** Same limit shapes as the WebSocket transport's parser, with a small depth limit to reach it. */
const opts: StreamParserOptions = { framed: true, maxStanzaSize: 4000, maxDepth: 8 };

interface Outcome {
  elements: unknown[];
  error?: string;
  boundary: boolean;
}

function canon(e: Element): unknown {
  return [
    e.name,
    Object.entries(e.attrs),
    e.parent === null,
    e.children.map((c) => (typeof c === 'string' ? c : canon(c))),
  ];
}

function run(input: string, saxesOnly: boolean): Outcome {
  const out: Outcome = { elements: [], boundary: false };
  const p = new XmlStreamParser({ element: (e) => out.elements.push(canon(e)) }, { ...opts, saxesOnly });
  try {
    p.write(input);
    out.boundary = p.atElementBoundary;
  } catch (err) {
    out.error = err instanceof StreamError ? err.condition : `not a stream error: ${(err as Error).message}`;
  }
  return out;
}

function same(input: string): boolean {
  const fast = run(input, false);
  const slow = run(input, true);
  assert.equal(fast, slow, `same outcome for ${JSON.stringify(input)}`);
  return parseSimpleFrame(input, opts.maxDepth!, undefined) !== null;
}

test('viewers’ usual messages take the one-pass path and give what saxes gives', () => {
  for (const m of COMMON) assert.ok(same(m), `one-pass path taken for ${JSON.stringify(m)}`);
});

test('edge cases: the same elements, errors and boundary state as saxes alone', () => {
  let taken = 0;
  for (const m of EDGE) if (same(m)) taken++;
  // Most edge cases are the one-pass parser declining; some must be taken, or the comparison proves nothing.
  assert.ok(taken >= 10, `${taken} edge cases parsed in one pass`);
});

test(`seeded mutations (${CASES}, FUZZ_SEED=${SEED}): the same outcome as saxes alone`, () => {
  const r = rng(SEED);
  const corpus = [...COMMON, ...EDGE.filter((e) => e.length > 0)];
  let taken = 0;
  for (let k = 0; k < CASES; k++) {
    let s = corpus[Math.floor(r() * corpus.length)]!;
    const edits = 1 + Math.floor(r() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(r() * (s.length + 1));
      const op = r();
      if (op < 0.4) s = s.slice(0, at) + TOKENS[Math.floor(r() * TOKENS.length)] + s.slice(at);
      else if (op < 0.7) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 4));
      else if (op < 0.85) s = s.slice(0, at) + s.charAt(Math.floor(r() * s.length)) + s.slice(at);
      else {
        // duplicate a slice (nesting, repeated attributes)
        const len = Math.floor(r() * 20);
        s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
      }
    }
    if (same(s)) taken++;
  }
  assert.ok(taken > CASES / 20, `${taken} of ${CASES} mutated messages parsed in one pass`);
});

test.run();
