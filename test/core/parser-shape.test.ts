// The XML stream parser's saxes instance must stay a fast-properties object in V8. saxes keeps each event handler in
// a property added after construction; one handler too many turns the parser into a dictionary-mode object, and
// every stanza then took three times as long to parse, with nothing else visibly wrong. V8's own check
// (%HasFastProperties) is only available behind --allow-natives-syntax, hence a child node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const streamModule = fileURLToPath(new URL('../../dist/src/xmpp/xml-stream.js', import.meta.url));

function shapes(): Record<string, boolean> {
  const script = `
    const { XmlStreamParser } = await import(${JSON.stringify(streamModule)});
    const out = {};
    const saxesOf = (p) => p.lease.p;
    // WebSocket/BOSH: the parser is leased for the length of a write; look at it while it delivers the element.
    const framed = new XmlStreamParser(
      {
        element(el) {
          out.framed = %HasFastProperties(saxesOf(framed));
          out.attrs = %HasFastProperties(el.attrs) && %HasFastProperties(el.children[0].attrs);
        },
      },
      { framed: true, maxStanzaSize: 65536, defaultNs: 'jabber:client' },
    );
    framed.write('<iq type="get" id="1" to="room@localhost/a"><vCard xmlns="vcard-temp"/></iq>');
    // TCP: one parser for the stream's life.
    const tcp = new XmlStreamParser(
      { streamOpened() {}, element() {} },
      { framed: false, maxStanzaSize: 65536, defaultNs: 'jabber:client' },
    );
    tcp.write("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>");
    tcp.write('<message to="a@localhost"><body>hi</body></message>');
    out.tcp = %HasFastProperties(saxesOf(tcp));
    console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.is(r.status, 0, `the check did not run: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, boolean>;
}

test("the stream parser's saxes instance and the elements' attributes keep fast properties", () => {
  // attrs: saxes' own attribute objects have a null prototype, which V8 keeps in dictionary mode (slow to read,
  // and ~0.7 µs per element to copy); the parser hands elements plain ones.
  assert.equal(shapes(), { framed: true, attrs: true, tcp: true });
});

test.run();
