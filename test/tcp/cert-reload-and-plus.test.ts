// Over real client connections: a certificate folder change is picked up live without dropping sessions, and
// SCRAM-SHA-256-PLUS binds the login to the TLS channel (RFC 9266 tls-exporter).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import tls from 'node:tls';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { generateSelfSigned, channelBindings } from '../../src/certs/index.js';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
process.emitWarning = () => {};

let srv: TestServer;
let folder: string;
const clients: TestClient[] = [];
const HOSTS = ['localhost', 'anon.localhost', 'room.localhost'];

async function writeCert(): Promise<void> {
  const { certPem, keyPem } = await generateSelfSigned({ names: HOSTS, days: 30 });
  await mkdir(join(folder, 'localhost'), { recursive: true });
  await writeFile(join(folder, 'localhost', 'privkey.pem'), keyPem);
  await writeFile(join(folder, 'localhost', 'fullchain.pem'), certPem);
}

function fingerprintOf(c: TestClient): string {
  return ((c.xmpp.socket.socket ?? c.xmpp.socket) as tls.TLSSocket).getPeerCertificate().fingerprint256;
}

test.before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'xmpp-certs-'));
  await writeCert();
  srv = await startTestServer({
    tcp: { enabled: true, port: 0, directTls: true, directTlsPort: 0 },
    certs: { folder },
  });
  await srv.server.accounts!.setPassword('fay', 'pass-fay');
});
test.after(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await srv.stop();
  await rm(folder, { recursive: true, force: true });
});

test('a renewed certificate is served to new connections while old sessions keep working', async () => {
  const port = srv.server.tcpAddresses()!.starttls[0].port;
  const before = await connectClient({ service: `xmpp://127.0.0.1:${port}`, domain: 'anon.localhost' });
  const peer = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  clients.push(before, peer);
  const fp1 = fingerprintOf(before);
  assert.is(fp1, srv.server.certs!.infoFor('localhost')!.fingerprint256);
  assert.not.ok(srv.server.certs!.infoFor('localhost')!.selfSigned, 'served from the folder');

  const reloaded = new Promise((r) => srv.server.certs!.once('reload', r));
  await writeCert(); // what a certbot renewal does
  await reloaded;
  const after = await connectClient({ service: `xmpp://127.0.0.1:${port}`, domain: 'anon.localhost' });
  clients.push(after);
  assert.is.not(fingerprintOf(after), fp1, 'new connection sees the new certificate');

  await before.send(xml('presence'));
  await peer.send(xml('message', { to: before.jid, type: 'chat' }, xml('body', {}, 'still connected')));
  await before.waitFor((s) => s.getChildText('body') === 'still connected');
});

/** Direct TLS 1.3 connection to the server, with the text it has sent so far and a way to wait for more. */
async function tls13(): Promise<{ sock: tls.TLSSocket; text: () => string; waitFor(re: RegExp): Promise<void> }> {
  const port = srv.server.tcpAddresses()!.directTls[0].port;
  const sock = tls.connect({
    port,
    host: '127.0.0.1',
    servername: 'localhost',
    rejectUnauthorized: false,
    minVersion: 'TLSv1.3',
  });
  await new Promise((r) => sock.once('secureConnect', r));
  let buf = '';
  sock.on('data', (d) => {
    buf += d;
  });
  const waitFor = (re: RegExp) =>
    new Promise<void>((res, rej) => {
      const t0 = Date.now();
      const poll = () =>
        re.test(buf) ? res() : Date.now() - t0 > 5000 ? rej(new Error(`no ${re} in ${buf}`)) : setTimeout(poll, 10);
      poll();
    });
  return { sock, text: () => buf, waitFor };
}

/**
 * A SCRAM-SHA-256-PLUS login for fay over a new TLS 1.3 connection, with the RFC 5802 arithmetic done here by hand;
 * `binding` gives the tls-exporter data to send, from that connection's socket. Resolves with what the server sent.
 */
async function scramPlus(binding: (sock: tls.TLSSocket) => Buffer): Promise<string> {
  const c = await tls13();
  try {
    c.sock.write(
      `<stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
    );
    await c.waitFor(/<\/stream:features>/);
    assert.match(c.text(), /<mechanism>SCRAM-SHA-256-PLUS<\/mechanism>/);
    const gs2 = 'p=tls-exporter,,';
    const first = 'n=fay,r=fyko+d2lbbFgONRv9qkxdawL';
    c.sock.write(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256-PLUS'>${Buffer.from(gs2 + first).toString('base64')}</auth>`,
    );
    await c.waitFor(/<challenge[^>]*>[^<]+</);
    const ch = Buffer.from(/<challenge[^>]*>([^<]+)</.exec(c.text())![1], 'base64').toString();
    const m = /r=([^,]+),s=([^,]+),i=(\d+)/.exec(ch)!;
    const salted = pbkdf2Sync('pass-fay', Buffer.from(m[2], 'base64'), Number(m[3]), 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const finalNoProof = `c=${Buffer.concat([Buffer.from(gs2), binding(c.sock)]).toString('base64')},r=${m[1]}`;
    const sig = createHmac('sha256', storedKey).update(`${first},${ch},${finalNoProof}`).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i])).toString('base64');
    c.sock.write(
      `<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from(`${finalNoProof},p=${proof}`).toString('base64')}</response>`,
    );
    await c.waitFor(/<success|<failure/);
    return c.text();
  } finally {
    c.sock.destroy();
  }
}

test('SCRAM-SHA-256-PLUS over direct TLS 1.3 with tls-exporter channel binding', async () => {
  const answer = await scramPlus((sock) => {
    const cb = channelBindings(sock, 'client')['tls-exporter'];
    assert.ok(cb, 'client side has tls-exporter');
    return cb!;
  });
  assert.match(answer, /<success/);
});

test('SCRAM-SHA-256-PLUS with channel binding data from another connection fails', async () => {
  const other = await tls13();
  const stolen = channelBindings(other.sock, 'client')['tls-exporter']!;
  other.sock.destroy();
  const answer = await scramPlus(() => stolen);
  assert.match(answer, /<not-authorized\/>/);
  assert.not.match(answer, /<success/);
});

test.run();
