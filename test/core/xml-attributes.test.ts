// Attribute names that are also names of Object.prototype's members (toString, constructor, __proto__…) are
// attributes like any other: parsed, kept and written back, and a real duplicate is still a stream error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { XmlStreamParser } from '../../src/xmpp/xml-stream.js';
import { el, type Element } from '../../src/xmpp/xml.js';

function parseFramed(text: string): Element[] {
  const out: Element[] = [];
  const p = new XmlStreamParser(
    { element: (el) => out.push(el) },
    { framed: true, maxStanzaSize: 65536, defaultNs: 'jabber:client' },
  );
  p.write(text);
  return out;
}

test('attributes named like Object.prototype members are kept and written back', () => {
  const names = ['toString', 'constructor', '__proto__', 'valueOf', 'hasOwnProperty'];
  const attrs = names.map((n, i) => `${n}="v${i}"`).join(' ');
  const [msg] = parseFramed(`<message to="a@localhost"><x xmlns="urn:example" ${attrs}/></message>`);
  assert.ok(msg, 'no element parsed');
  const x = msg.getChild('x', 'urn:example');
  assert.ok(x, 'child not found');
  for (const [i, n] of names.entries()) {
    assert.ok(Object.prototype.hasOwnProperty.call(x.attrs, n), `${n} is not an attribute of the element`);
    assert.is(x.attrs[n], `v${i}`, n);
  }
  const again = parseFramed(msg.toString())[0]!.getChild('x', 'urn:example')!;
  for (const [i, n] of names.entries()) assert.is(again.attrs[n], `v${i}`, `${n} after writing the element out`);
});

test('a repeated attribute is still a stream error (not-well-formed)', () => {
  for (const dup of ['to="a" to="b"', 'toString="1" toString="2"']) {
    let err: unknown;
    try {
      parseFramed(`<message ${dup}/>`);
    } catch (e) {
      err = e;
    }
    assert.ok(err, `<message ${dup}/> was accepted`);
    assert.is((err as { condition?: string }).condition, 'not-well-formed', String(err));
  }
});

test('el() leaves out undefined and null attributes, writes numbers as text, and escapes values once', () => {
  const e = el('iq', { type: 'result', id: 7, to: undefined, from: null, note: 'a<b & "c"' }, el('query', {}), false);
  assert.equal(Object.keys(e.attrs), ['type', 'id', 'note']);
  assert.is(e.toString(), '<iq type="result" id="7" note="a&lt;b &amp; &quot;c&quot;"><query/></iq>');
  const plain = el('presence');
  assert.equal(plain.attrs, {}, 'no attributes given, none set');
  assert.is(plain.toString(), '<presence/>');
});

test.run();
