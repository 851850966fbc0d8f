// Stream features come from the modules that own them, in a stable order: SASL mechanisms before authentication
// (per host), then bind, session and stream management — the last only when stream management is on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'ltx';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rawWs } from '../helpers/raw-ws.js';
import { StreamFeatures } from '../../src/xmpp/stream-features.js';
import { el } from '../../src/xmpp/xml.js';

let srv: TestServer | undefined;
test.after.each(async () => {
  await srv?.stop();
  srv = undefined;
});

/** The child elements of a <stream:features/> frame, as "name namespace". */
function featuresOf(frame: string): string[] {
  return parse(frame)
    .getChildElements()
    .map((c) => `${c.name} ${c.attrs.xmlns}`);
}

async function negotiate(url: string, host: string): Promise<{ pre: string[]; post: string[]; mechanisms: string[] }> {
  const c = await rawWs(url);
  try {
    c.send(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${host}" version="1.0"/>`);
    const preFrame = await c.waitFor(/<stream:features/);
    const mechanisms =
      parse(preFrame)
        .getChild('mechanisms')
        ?.getChildren('mechanism')
        .map((m) => m.getText()) ?? [];
    if (!mechanisms.includes('ANONYMOUS')) return { pre: featuresOf(preFrame), post: [], mechanisms };
    c.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
    await c.waitFor(/<success/);
    c.frames.length = 0; // what follows is the restarted stream
    c.send(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${host}" version="1.0"/>`);
    const postFrame = await c.waitFor(/<stream:features/);
    return { pre: featuresOf(preFrame), post: featuresOf(postFrame), mechanisms };
  } finally {
    c.close();
  }
}

test('each stage offers what its modules registered, in order', async () => {
  srv = await startTestServer();
  const anon = await negotiate(srv.wsUrl, 'anon.localhost');
  assert.equal(anon.pre, ['mechanisms urn:ietf:params:xml:ns:xmpp-sasl'], 'WebSocket: no STARTTLS, only SASL');
  assert.equal(anon.mechanisms, ['ANONYMOUS']);
  assert.equal(anon.post, [
    'bind urn:ietf:params:xml:ns:xmpp-bind',
    'session urn:ietf:params:xml:ns:xmpp-session',
    'sm urn:xmpp:sm:3',
  ]);
  const accounts = await negotiate(srv.wsUrl, 'localhost');
  assert.ok(accounts.mechanisms.includes('SCRAM-SHA-256'), `accounts host offers SCRAM: ${accounts.mechanisms}`);
  assert.not.ok(accounts.mechanisms.includes('ANONYMOUS'), 'no anonymous login on the accounts host');
});

test('stream management off: its feature is not offered', async () => {
  srv = await startTestServer({ streamManagement: { enabled: false } });
  const anon = await negotiate(srv.wsUrl, 'anon.localhost');
  assert.equal(anon.post, ['bind urn:ietf:params:xml:ns:xmpp-bind', 'session urn:ietf:params:xml:ns:xmpp-session']);
});

test('the registry keeps registration order, skips features with nothing to offer, refuses a name twice', () => {
  const f = new StreamFeatures<{ on: boolean }>();
  f.add({ name: 'a', offer: () => el('a') });
  f.add({ name: 'b', offer: (s) => (s.on ? [el('b1'), el('b2')] : undefined) });
  f.add({ name: 'c', offer: () => el('c') });
  assert.equal(
    f.offer({ on: true }).map((e) => e.name),
    ['a', 'b1', 'b2', 'c'],
  );
  assert.equal(
    f.offer({ on: false }).map((e) => e.name),
    ['a', 'c'],
  );
  assert.throws(() => f.add({ name: 'b', offer: () => undefined }), /registered twice/);
});

test.run();
