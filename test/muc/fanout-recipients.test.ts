// The fan-out splices each recipient's own address (escaped, in UTF-8: more bytes than characters when it is not ASCII)
// into the room's shared bytes. Real clients (@xmpp/client over WebSocket, raw BOSH) with plain, escaped and non-ASCII
// resources each get a room message, and an occupant's vCard answer, addressed to themselves.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { xml, type TestClient, type Stanza } from '../helpers/xmpp-client.js';
import { assertEachAddressed, joinViewer } from '../helpers/room-viewers.js';
import { RawBosh, enterRoom, payloads } from '../bosh/raw.js';

const ROOM = 'recipients@room.localhost';
let srv: TestServer;
const clients: TestClient[] = [];

test.before(async () => {
  srv = await startTestServer({ testMode: true });
});

test.after(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  if (srv) await srv.stop();
});

test('plain, escaped and non-ASCII recipients each get the room message and a vCard answer addressed to themselves', async () => {
  const account = { domain: 'localhost', username: 'alice', password: 'secret' };
  const escaped = await joinViewer(srv, ROOM, 'escaped', clients, { ...account, resource: `a&b<c>'"d` });
  const unicode = await joinViewer(srv, ROOM, 'unicode', clients, { ...account, resource: 'résumé ✓ 日本' });
  const plain = await joinViewer(srv, ROOM, 'plain', clients);
  assert.ok(escaped.jid.endsWith(`/a&b<c>'"d`), `bound as ${escaped.jid}`);
  assert.ok(unicode.jid.endsWith('/résumé ✓ 日本'), `bound as ${unicode.jid}`);
  const bosh = new RawBosh(`${srv.httpUrl}/http-bind`);
  await bosh.login();
  await enterRoom(bosh, `${ROOM}/bosh`);

  const text = 'héllo & <bye> "ünïcode" ✓';
  await plain.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, text)));
  await assertEachAddressed(
    [
      [escaped, 'the viewer with an escaped resource'],
      [unicode, 'the viewer with a non-ASCII resource'],
      [plain, 'the sender'],
    ],
    text,
    `${ROOM}/plain`,
  );
  let atBosh: Stanza | undefined;
  for (let i = 0; i < 20 && !atBosh; i++)
    atBosh = payloads(await bosh.send()).find((s) => s.is('message') && s.getChildText('body') === text);
  assert.ok(atBosh, 'the BOSH viewer got the message');
  assert.is(atBosh.attrs.to, bosh.jid, "addressed to the BOSH viewer's full JID");

  // An occupant's vCard answer is the other spliced stanza: one prepared answer, each asker's own id and address.
  for (const c of [unicode, escaped]) {
    const answer = await c.iq(xml('iq', { type: 'get', to: `${ROOM}/plain` }, xml('vCard', { xmlns: 'vcard-temp' })));
    assert.is(answer.attrs.type, 'result');
    assert.is(answer.attrs.to, c.jid, "the answer is addressed to the asker's full JID");
    assert.ok(answer.getChild('vCard', 'vcard-temp'), 'with a vCard');
  }
});

test.run();
