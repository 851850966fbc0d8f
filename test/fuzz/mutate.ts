// Seeded mutation of valid stanzas: the same seed gives the same inputs, so a failure replays exactly.

/** mulberry32: a small deterministic PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, n: number) => Math.floor(r() * n);

/** Valid stanzas a viewer sends; ROOM and PEER are filled in by the harness. */
export const SEEDS = [
  "<message xmlns='jabber:client' to='ROOM' type='groupchat' id='g1'><body>hello room</body></message>",
  "<message xmlns='jabber:client' to='PEER' type='chat' id='c1'><body>hi &amp; bye &lt;3</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
  "<presence xmlns='jabber:client' to='ROOM/fuzzer'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>",
  "<iq xmlns='jabber:client' type='get' id='d1' to='ROOM'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
  "<iq xmlns='jabber:client' type='set' id='q1' to='ROOM'><query xmlns='urn:xmpp:mam:2' queryid='f'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field></x><set xmlns='http://jabber.org/protocol/rsm'><max>5</max></set></query></iq>",
  "<presence xmlns='jabber:client'><show>away</show><status>brb &#x263A;</status></presence>",
  "<iq xmlns='jabber:client' type='get' id='v1' to='anon.localhost'><ping xmlns='urn:xmpp:ping'/></iq>",
] as const;

const TOKENS = [
  '&',
  '<',
  '>',
  "'",
  '"',
  ']]>',
  '<![CDATA[',
  '&#0;',
  '&#x110000;',
  '&lt',
  '&bogus;',
  'xmlns:',
  'fz:',
  '</',
  '/>',
  '=',
  ' ',
  '<!--',
  '<?pi?>',
  '<!DOCTYPE x>',
  '\u0000',
  '\uffff',
];
const BYTES = [
  [0x80],
  [0xff],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
  [0x00],
  [0x1b],
];

/** 1–3 random byte-level mutations of a valid stanza. */
export function mutate(r: Rand, input: string): Buffer {
  let b = Buffer.from(input);
  for (let k = 1 + int(r, 3); k > 0; k--) {
    const at = int(r, b.length + 1);
    switch (int(r, 6)) {
      case 0:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(pick(r, TOKENS)), b.subarray(at)]);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(pick(r, BYTES)), b.subarray(at)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(r, 8)))]);
        break;
      case 3: {
        const c = Buffer.from(b);
        c[Math.min(at, c.length - 1)] = int(r, 256);
        b = c;
        break;
      }
      case 4: {
        const len = 1 + int(r, 20);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      default:
        b = b.subarray(0, Math.max(1, at));
    }
  }
  return b;
}

/** Malformed classes whose answer is known exactly: each turns a valid stanza into one defect. */
export interface ClassCase {
  kind: string;
  bytes: Buffer;
  condition: string;
  boshCondition: string;
}

export function classCases(r: Rand, stanza: string, maxStanzaSize: number): ClassCase[] {
  const nameEnd = stanza.search(/[\s/>]/);
  const textAt = stanza.indexOf('>') + 1;
  const inside = 1 + int(r, Math.max(1, stanza.length - 2));
  return [
    {
      kind: 'bare-ampersand',
      bytes: Buffer.from(stanza.slice(0, inside) + '&1' + stanza.slice(inside)),
      condition: 'not-well-formed',
      boshCondition: 'bad-request',
    },
    {
      kind: 'unbound-attribute-prefix',
      bytes: Buffer.from(stanza.slice(0, nameEnd) + " fz:attr='1'" + stanza.slice(nameEnd)),
      condition: 'not-well-formed',
      boshCondition: 'bad-request',
    },
    {
      kind: 'unbound-element-prefix',
      bytes: Buffer.from(
        stanza
          .replace(/^<(\w+)/, '<fz:$1')
          .replace(/<\/(\w+)>$/, '</fz:$1>')
          .replace(/\/>$/, '/>'),
      ),
      condition: 'not-well-formed',
      boshCondition: 'bad-request',
    },
    {
      kind: 'invalid-utf8',
      bytes: Buffer.concat([
        Buffer.from(stanza.slice(0, inside)),
        Buffer.from(
          pick(
            r,
            BYTES.filter((x) => x[0] >= 0x80),
          ),
        ),
        Buffer.from(stanza.slice(inside)),
      ]),
      condition: 'not-well-formed',
      boshCondition: 'bad-request',
    },
    {
      kind: 'comment',
      bytes: Buffer.from(stanza.slice(0, textAt) + '<!-- x -->' + stanza.slice(textAt)),
      condition: 'restricted-xml',
      boshCondition: 'bad-request',
    },
    {
      kind: 'oversized',
      bytes: Buffer.from(
        stanza.slice(0, textAt) +
          `<fill xmlns='urn:example'>${'x'.repeat(maxStanzaSize + 100)}</fill>` +
          stanza.slice(textAt),
      ),
      condition: 'policy-violation',
      boshCondition: 'policy-violation',
    },
    {
      kind: 'mismatched-end-tag',
      bytes: Buffer.from(stanza.replace(/<\/(\w+)>$/, '</$1x>').replace(/\/>$/, '></wrong>')),
      condition: 'not-well-formed',
      boshCondition: 'bad-request',
    },
  ];
}
