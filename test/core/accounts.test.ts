// Accounts on the main domain: SCRAM-SHA-1 and PLAIN logins with @xmpp/client, wrong passwords, carbons.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { rawWs } from '../helpers/raw-ws.js';

let srv: TestServer;
const clients: TestClient[] = [];
const login = (o: { username: string; password: string; mechanism?: string; resource?: string }) =>
  connectClient({ service: srv.wsUrl, domain: 'localhost', ...o }).then((c) => (clients.push(c), c));

test.before(async () => {
  srv = await startTestServer();
  await srv.server.accounts!.setPassword('alice', 'wonderland');
  await srv.server.accounts!.setPassword('bob', 'builder');
});
test.after(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await srv.stop();
});

test('the account file stores SCRAM keys, never the password', async () => {
  await srv.server.accounts!.flush();
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(`${srv.dataDir}/accounts.json`, 'utf8');
  assert.not.ok(text.includes('wonderland'));
  assert.ok(JSON.parse(text).alice['sha-256'].storedKey);
});

test('an account logs in with SCRAM-SHA-1', async () => {
  const c = await login({ username: 'alice', password: 'wonderland', mechanism: 'SCRAM-SHA-1', resource: 'desk' });
  assert.is(c.jid, 'alice@localhost/desk');
});

test('an account logs in with PLAIN', async () => {
  const c = await login({ username: 'bob', password: 'builder', mechanism: 'PLAIN' });
  assert.match(c.jid, /^bob@localhost\//);
});

test('a wrong password fails with not-authorized and the client can tell', async () => {
  for (const mechanism of ['SCRAM-SHA-1', 'PLAIN']) {
    try {
      await login({ username: 'alice', password: 'wrong', mechanism });
      assert.unreachable(`${mechanism} login with a wrong password succeeded`);
    } catch (err) {
      assert.is((err as { condition?: string }).condition, 'not-authorized', mechanism);
    }
  }
});

test('SCRAM-SHA-256 works (raw exchange checked against RFC 7677 arithmetic)', async () => {
  const { createHash, createHmac, pbkdf2Sync } = await import('node:crypto');
  const c = await rawWs(srv.wsUrl);
  c.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="localhost" version="1.0"/>');
  const features = await c.waitFor(/<mechanisms/);
  assert.ok(features.includes('SCRAM-SHA-256'));
  const cnonce = 'rOprNGfwEbeRWgbNEkqO';
  const first = `n,,n=alice,r=${cnonce}`;
  c.send(
    `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="SCRAM-SHA-256">${Buffer.from(first).toString('base64')}</auth>`,
  );
  const ch = Buffer.from(/<challenge[^>]*>([^<]+)</.exec(await c.waitFor(/<challenge/))![1], 'base64').toString();
  const m = /r=([^,]+),s=([^,]+),i=(\d+)/.exec(ch)!;
  const salted = pbkdf2Sync('wonderland', Buffer.from(m[2], 'base64'), Number(m[3]), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const finalNoProof = `c=biws,r=${m[1]}`;
  const authMessage = `n=alice,r=${cnonce},${ch},${finalNoProof}`;
  const sig = createHmac('sha256', storedKey).update(authMessage).digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i]));
  c.send(
    `<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">${Buffer.from(`${finalNoProof},p=${proof.toString('base64')}`).toString('base64')}</response>`,
  );
  const success = await c.waitFor(/<success/);
  const serverSig = createHmac('sha256', createHmac('sha256', salted).update('Server Key').digest())
    .update(authMessage)
    .digest();
  assert.ok(
    success.includes(Buffer.from(`v=${serverSig.toString('base64')}`).toString('base64')),
    'server signature verifies',
  );
  c.close();
});

test('repeated failures from one address are slowed down', async () => {
  const attempt = async () => {
    const c = await rawWs(srv.wsUrl);
    c.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="localhost" version="1.0"/>');
    await c.waitFor(/<mechanisms/);
    const t0 = Date.now();
    c.send(
      `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${Buffer.from('\0carol\0guess').toString('base64')}</auth>`,
    );
    await c.waitFor(/<failure/, 15000);
    c.close();
    return Date.now() - t0;
  };
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push(await attempt());
  assert.ok(times[0] < 200, `first failure answered at once (${times[0]} ms)`);
  assert.ok(times[4] >= 400, `fifth failure delayed (${times.join(', ')} ms)`);
});

test('message carbons: alice on two devices sees the chat of the other (XEP-0280)', async () => {
  const a1 = await login({ username: 'alice', password: 'wonderland', resource: 'phone' });
  const a2 = await login({ username: 'alice', password: 'wonderland', resource: 'laptop' });
  const b = await login({ username: 'bob', password: 'builder', resource: 'home' });
  for (const c of [a1, a2, b]) await c.send(xml('presence'));
  await a2.iq(xml('iq', { type: 'set', id: 'c1' }, xml('enable', { xmlns: 'urn:xmpp:carbons:2' })));
  await b.send(xml('message', { to: 'alice@localhost/phone', type: 'chat' }, xml('body', {}, 'to the phone')));
  const rc = await a2.waitFor((s) => !!s.getChild('received', 'urn:xmpp:carbons:2'));
  assert.is(rc.getChild('received').getChild('forwarded').getChild('message').getChildText('body'), 'to the phone');
  await a1.send(xml('message', { to: 'bob@localhost', type: 'chat' }, xml('body', {}, 'from the phone')));
  const sc = await a2.waitFor((s) => !!s.getChild('sent', 'urn:xmpp:carbons:2'));
  assert.is(sc.getChild('sent').getChild('forwarded').getChild('message').getChildText('body'), 'from the phone');
  await b.waitFor((s) => s.getChildText('body') === 'from the phone');
});

test.run();
