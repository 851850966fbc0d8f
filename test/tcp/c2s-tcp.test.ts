// XMPP clients over TCP (RFC 6120): STARTTLS with the self-signed certificate made on first start, direct TLS
// (XEP-0368), and refusal of clients that skip TLS when it is required. @xmpp/client is the real client.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import type tls from 'node:tls';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';

// @xmpp/client's STARTTLS verifies the certificate against the system CAs; ours is self-signed. The test checks
// the certificate it got by hand instead (subjectAltName and fingerprint).
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
process.emitWarning = () => {};

let srv: TestServer;
const clients: TestClient[] = [];

test.before(async () => {
  srv = await startTestServer({ tcp: { enabled: true, port: 0, directTls: true, directTlsPort: 0 } });
  await srv.server.accounts!.setPassword('erin', 'pass-erin');
});
test.after(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await srv.stop();
});

const port = () => srv.server.tcpAddresses()!.starttls[0].port;
const tlsPort = () => srv.server.tcpAddresses()!.directTls[0].port;

test('an account logs in over TCP with STARTTLS and sees the self-signed certificate for its domain', async () => {
  const c = await connectClient({
    service: `xmpp://127.0.0.1:${port()}`,
    domain: 'localhost',
    username: 'erin',
    password: 'pass-erin',
  });
  clients.push(c);
  assert.match(c.jid, /^erin@localhost\//);
  // After STARTTLS, @xmpp/client's socket is its TLS wrapper around a node:tls socket.
  const sock = (c.xmpp.socket.socket ?? c.xmpp.socket) as tls.TLSSocket;
  assert.ok(typeof sock.getPeerCertificate === 'function', 'the stream runs over TLS');
  const cert = sock.getPeerCertificate();
  assert.match(cert.subjectaltname ?? '', /DNS:localhost/);
  assert.match(cert.subjectaltname ?? '', /DNS:anon\.localhost/);
  assert.is(cert.fingerprint256, srv.server.certs!.infoFor('localhost')!.fingerprint256);
});

test('anonymous login over direct TLS, and a message to a WebSocket viewer', async () => {
  const tcpUser = await connectClient({ service: `xmpps://127.0.0.1:${tlsPort()}`, domain: 'anon.localhost' });
  const wsUser = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  clients.push(tcpUser, wsUser);
  await wsUser.send(xml('presence'));
  await tcpUser.send(xml('presence'));
  await tcpUser.send(xml('message', { to: wsUser.jid, type: 'chat' }, xml('body', {}, 'over TLS')));
  const m = await wsUser.waitFor((s) => s.getChildText('body') === 'over TLS');
  assert.is(m.attrs.from, tcpUser.jid);
  await wsUser.send(xml('message', { to: tcpUser.jid, type: 'chat' }, xml('body', {}, 'over WebSocket')));
  await tcpUser.waitFor((s) => s.getChildText('body') === 'over WebSocket');
});

interface RawTcp {
  sock: net.Socket;
  data: () => string;
  waitFor(re: RegExp, ms?: number): Promise<string>;
  closed: Promise<void>;
}

function rawTcp(p: number): Promise<RawTcp> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(p, '127.0.0.1');
    let buf = '';
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('data', (d) => {
      buf += d;
    });
    sock.on('error', reject);
    sock.on('connect', () =>
      resolve({
        sock,
        data: () => buf,
        closed,
        waitFor: (re, ms = 5000) =>
          new Promise((res, rej) => {
            const t0 = Date.now();
            const poll = () => {
              if (re.test(buf)) return res(buf);
              if (Date.now() - t0 > ms) return rej(new Error(`no ${re} in: ${buf}`));
              setTimeout(poll, 20);
            };
            poll();
          }),
      }),
    );
  });
}

const HEADER = (to: string) =>
  `<?xml version='1.0'?><stream:stream to='${to}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;

test('a client that refuses STARTTLS when encryption is required gets no mechanisms and a policy-violation', async () => {
  const c = await rawTcp(port());
  c.sock.write(HEADER('localhost'));
  const features = await c.waitFor(/<\/stream:features>/);
  assert.match(features, /<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required\/><\/starttls>/);
  assert.not.match(features, /<mechanisms/);
  c.sock.write(
    `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0erin\0pass-erin').toString('base64')}</auth>`,
  );
  await c.waitFor(/<stream:error[^>]*><policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
  await c.waitFor(/<\/stream:stream>/);
  await c.closed;
});

test('malformed XML over TCP gets not-well-formed', async () => {
  const c = await rawTcp(port());
  c.sock.write(HEADER('localhost') + '<iq><<</iq>');
  await c.waitFor(/<not-well-formed xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
  await c.closed;
});

test('a stream header in the wrong namespace gets invalid-namespace', async () => {
  const c = await rawTcp(port());
  c.sock.write(
    `<stream:stream to='localhost' version='1.0' xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>`,
  );
  await c.waitFor(/<invalid-namespace xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
  await c.closed;
});

test.run();
