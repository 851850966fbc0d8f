// S2S with real certificates: two of our servers whose certificates come from a CA both trust authenticate with
// SASL EXTERNAL (no dialback); with secureAuth on, a peer with only a self-signed certificate is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pickDnsPort, startDns, type TestDns } from './helpers/dns.js';
import { startOurs, type S2sTestServer } from './helpers/ours.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';

const exec = promisify(execFile);
let dir: string;
let dns: TestDns;
let a: S2sTestServer;
let b: S2sTestServer;
let c: S2sTestServer;
const clients: TestClient[] = [];
const anonOn = (s: S2sTestServer) =>
  connectClient({ service: s.wsUrl, domain: `anon.${s.domain}` }).then((x) => (clients.push(x), x));

async function issue(ca: string, domain: string, out: string): Promise<void> {
  await mkdir(out, { recursive: true });
  const key = join(out, `${domain}.key`);
  const csr = join(dir, `${domain}.csr`);
  const ext = join(dir, `${domain}.ext`);
  await writeFile(ext, `subjectAltName=DNS:${domain},DNS:*.${domain}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  await exec('openssl', [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-out',
    csr,
    '-subj',
    `/CN=${domain}`,
  ]);
  await exec('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(ca, 'ca.crt'),
    '-CAkey',
    join(ca, 'ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    join(out, `${domain}.crt`),
    '-extfile',
    ext,
  ]);
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 's2s-certs-'));
  const ca = join(dir, 'ca');
  await mkdir(ca);
  await exec('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    join(ca, 'ca.key'),
    '-out',
    join(ca, 'ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=S2S Test CA',
  ]);
  await issue(ca, 'a.example', join(dir, 'a'));
  await issue(ca, 'b.example', join(dir, 'b'));
  const port = await pickDnsPort();
  const dnsAddr = `127.0.0.1:${port}`;
  const withCa = (folder: string) => ({
    certs: { folder, watch: false },
    s2s: { trustedCaFiles: [join(ca, 'ca.crt')], secureAuth: true, requireEncryption: true },
  });
  a = await startOurs('a.example', dnsAddr, withCa(join(dir, 'a')));
  b = await startOurs('b.example', dnsAddr, withCa(join(dir, 'b')));
  c = await startOurs('c.example', dnsAddr); // self-signed only
  const recs = [a.records(), b.records(), c.records()];
  dns = await startDns(port, {
    hosts: Object.assign({}, ...recs.map((r) => r.hosts)),
    srv: recs.flatMap((r) => r.srv),
  });
});

test.after(async () => {
  await Promise.all(clients.map((x) => x.stop()));
  for (const s of [a, b, c]) await s?.stop();
  await dns?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('servers with certificates from a trusted CA authenticate with SASL EXTERNAL', async () => {
  const alice = await anonOn(a);
  const bob = await anonOn(b);
  await bob.send(xml('presence'));
  await bob.waitFor((s) => s.is('presence') && s.attrs.from === bob.jid, 3000, 'own presence');
  await alice.send(xml('message', { to: bob.jid, type: 'chat' }, xml('body', {}, 'signed hello')));
  const m = await bob.waitFor((s) => s.getChildText('body') === 'signed hello', 10000, 'message');
  assert.is(m.attrs.from, alice.jid);
  const out = a.server.s2s!.status().outgoing.find((o) => o.remote === `anon.${b.domain}`)!;
  assert.is(out.auth, 'sasl');
  assert.ok(b.server.s2s!.status().incoming.some((i) => i.sasl === `anon.${a.domain}`));
});

test('with secureAuth, a peer with a self-signed certificate cannot deliver', async () => {
  const alice = await anonOn(a);
  await alice.send(xml('presence'));
  await alice.waitFor((s) => s.is('presence') && s.attrs.from === alice.jid, 3000, 'own presence');
  const carol = await anonOn(c);
  await carol.send(
    xml('message', { to: alice.jid, type: 'chat', id: 'c1' }, xml('body', {}, 'from a self-signed peer')),
  );
  const e = await carol.waitFor((s) => s.attrs.type === 'error' && s.attrs.id === 'c1', 15000, 'bounce');
  assert.ok(e.getChild('error')?.getChild('remote-server-not-found'), e.toString());
  assert.not.ok(alice.received.some((s) => s.getChildText('body') === 'from a self-signed peer'));
});

test('with secureAuth, we refuse to send to a peer whose certificate is self-signed', async () => {
  const alice = await anonOn(a);
  await alice.send(xml('message', { to: `someone@anon.${c.domain}`, type: 'chat', id: 'a1' }, xml('body', {}, 'to c')));
  const e = await alice.waitFor((s) => s.attrs.type === 'error' && s.attrs.id === 'a1', 15000, 'bounce');
  assert.ok(e.getChild('error')?.getChild('remote-server-not-found'), e.toString());
});

test.run();
