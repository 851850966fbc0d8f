// Anonymous viewers over WebSocket with @xmpp/client: login, bind, ping, messages between viewers, disco.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';

let srv: TestServer;
const clients: TestClient[] = [];
const anon = () => connectClient({ service: srv.wsUrl, domain: 'anon.localhost' }).then((c) => (clients.push(c), c));

test.before(async () => {
  srv = await startTestServer();
});
test.after(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await srv.stop();
});

test('an anonymous viewer logs in and gets a server-made full JID on anon.localhost', async () => {
  const c = await anon();
  assert.match(c.jid, /^[a-z0-9]+@anon\.localhost\/[0-9a-f]+$/);
});

test('the server answers XEP-0199 ping', async () => {
  const c = await anon();
  const res = await c.iq(
    xml('iq', { type: 'get', to: 'anon.localhost', id: 'p1' }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
  );
  assert.is(res.attrs.type, 'result');
});

test('a chat message from one viewer reaches another', async () => {
  const a = await anon();
  const b = await anon();
  await b.send(xml('presence'));
  await b.waitFor((s) => s.is('presence') && s.attrs.from === b.jid, 3000, 'own presence');
  await a.send(xml('message', { to: b.jid, type: 'chat', id: 'm1' }, xml('body', {}, 'hello b')));
  const m = await b.waitFor((s) => s.is('message') && s.getChildText('body') === 'hello b');
  assert.is(m.attrs.from, a.jid);
  assert.is(m.attrs.type, 'chat');
});

test('a message to a viewer who left bounces with service-unavailable', async () => {
  const a = await anon();
  const b = await anon();
  const gone = b.jid;
  await b.stop();
  await a.send(xml('message', { to: gone, type: 'chat', id: 'lost1' }, xml('body', {}, 'anyone?')));
  const err = await a.waitFor((s) => s.is('message') && s.attrs.type === 'error' && s.attrs.id === 'lost1');
  assert.ok(err.getChild('error')?.getChild('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
});

test('disco#info of the host lists ping, version and time; version names the software', async () => {
  const c = await anon();
  const info = await c.iq(
    xml(
      'iq',
      { type: 'get', to: 'anon.localhost', id: 'd1' },
      xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
    ),
  );
  const features = info
    .getChild('query')
    .getChildren('feature')
    .map((f: { attrs: { var: string } }) => f.attrs.var);
  for (const f of ['urn:xmpp:ping', 'jabber:iq:version', 'urn:xmpp:time', 'http://jabber.org/protocol/disco#info'])
    assert.ok(features.includes(f), f);
  assert.not.ok(features.includes('urn:xmpp:carbons:2'), 'no carbons for anonymous viewers');
  const v = await c.iq(
    xml('iq', { type: 'get', to: 'anon.localhost', id: 'v1' }, xml('query', { xmlns: 'jabber:iq:version' })),
  );
  assert.is(v.getChild('query').getChildText('name'), 'livechat-xmpp');
});

test('the roster of an anonymous viewer is empty (ConverseJS asks for it)', async () => {
  const c = await anon();
  const r = await c.iq(xml('iq', { type: 'get', id: 'r1' }, xml('query', { xmlns: 'jabber:iq:roster' })));
  assert.is(r.attrs.type, 'result');
  assert.is(r.getChild('query').getChildren('item').length, 0);
});

test('what ConverseJS asks on join succeeds for a viewer: carbons enable, the room vCard', async () => {
  const c = await anon();
  const carbons = await c.iq(xml('iq', { type: 'set', id: 'cb1' }, xml('enable', { xmlns: 'urn:xmpp:carbons:2' })));
  assert.is(carbons.attrs.type, 'result');
  await c.send(
    xml('presence', { to: 'stream@room.localhost/Viewer' }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
  );
  await c.waitFor((s) => s.is('presence') && s.attrs.from === 'stream@room.localhost/Viewer');
  const vcard = await c.iq(
    xml('iq', { type: 'get', to: 'stream@room.localhost', id: 'rv1' }, xml('vCard', { xmlns: 'vcard-temp' })),
  );
  assert.is(vcard.attrs.type, 'result');
  assert.ok(vcard.getChild('vCard', 'vcard-temp'), 'an (empty) vCard, not an error');
});

test('an unknown iq to the server gets service-unavailable', async () => {
  const c = await anon();
  try {
    await c.iq(
      xml('iq', { type: 'get', to: 'anon.localhost', id: 'u1' }, xml('query', { xmlns: 'urn:example:nothing' })),
    );
    assert.unreachable('should have failed');
  } catch (err) {
    assert.is((err as { condition?: string }).condition, 'service-unavailable');
  }
});

test.run();
