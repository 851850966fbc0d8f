// The answers every viewer asks for on login (disco#info of its host, of the server and of the MUC service, the
// empty roster) are serialized once and shared: a real client still gets complete, correct answers, the same ones
// on every request, and a feature a module adds later shows up in the next answer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type Stanza, type TestClient } from '../helpers/xmpp-client.js';

const INFO = 'http://jabber.org/protocol/disco#info';
let srv: TestServer;
let c: TestClient;
test.before(async () => {
  srv = await startTestServer();
  c = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
});
test.after(async () => {
  await c.stop();
  await srv.stop();
});

const features = (q: Stanza) => q.getChildren('feature').map((f: Stanza) => f.attrs.var as string);
const info = async (to: string) =>
  (await c.iq(xml('iq', { type: 'get', to }, xml('query', { xmlns: INFO })))).getChild('query', INFO)!;

test('disco#info of the anonymous host and the server: identity and features, the same bytes twice', async () => {
  for (const host of ['anon.localhost', 'localhost']) {
    const a = await info(host);
    const b = await info(host);
    assert.ok(
      a.getChildren('identity').some((i: Stanza) => i.attrs.category === 'server' && i.attrs.type === 'im'),
      `${host}: server/im identity`,
    );
    assert.ok(features(a).includes(INFO), `${host}: disco#info feature`);
    assert.ok(features(a).includes('urn:xmpp:ping'), `${host}: ping feature`);
    assert.is(b.toString(), a.toString(), `${host}: same answer on a second request`);
  }
});

test('disco#info of the MUC service: conference identity and MUC features, twice', async () => {
  const a = await info('room.localhost');
  const b = await info('room.localhost');
  assert.ok(a.getChildren('identity').some((i: Stanza) => i.attrs.category === 'conference'));
  assert.ok(features(a).includes('http://jabber.org/protocol/muc'));
  assert.is(b.toString(), a.toString());
});

test('a feature added after answers were served appears in the next answer', async () => {
  await info('anon.localhost'); // served (and kept) before the change
  srv.server.disco.addFeature('urn:example:late-feature');
  assert.ok(features(await info('anon.localhost')).includes('urn:example:late-feature'));
  assert.ok(features(await info('localhost')).includes('urn:example:late-feature'));
});

test('the roster is empty with version 0, for every request', async () => {
  for (let i = 0; i < 2; i++) {
    const r = await c.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    const q = r.getChild('query', 'jabber:iq:roster')!;
    assert.ok(q, 'a roster query in the result');
    assert.is(q.attrs.ver, '0');
    assert.is(q.getChildren('item').length, 0);
  }
});

test.run();
