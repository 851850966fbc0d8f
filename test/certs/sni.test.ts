import { X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CertificateStore } from '../../src/certs/store.js';
import {
  connect,
  makeCert,
  memoryLog,
  peerFingerprint,
  peerNames,
  rejection,
  roundTrip,
  startEchoServer,
  tempDir,
  writeCert,
  type TestCert,
} from './fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
let store: CertificateStore;
let A: TestCert, B: TestCert, W: TestCert;
const log = memoryLog();

test.before(async () => {
  ({ dir, cleanup } = await tempDir());
  const folder = join(dir, 'tls');
  await mkdir(join(folder, 'b.test'), { recursive: true });
  [A, B, W] = await Promise.all([makeCert(['a.test']), makeCert(['b.test']), makeCert(['*.c.test'])]);
  await writeCert(join(folder, 'a.test.crt'), join(folder, 'a.test.key'), A);
  await writeCert(join(folder, 'b.test', 'fullchain.pem'), join(folder, 'b.test', 'privkey.pem'), B);
  await writeCert(join(folder, 'wild.pem'), join(folder, 'wild.key'), W);
  store = await CertificateStore.create({
    dataDir: join(dir, 'data'),
    hosts: ['a.test', 'b.test', 'room.a.test'],
    folder,
    log,
  });
});

test.after(async () => {
  store.close();
  await cleanup();
});

test('each SNI name gets its own certificate, and a client trusting it verifies the host', async () => {
  const srv = await startEchoServer(store);
  try {
    for (const [name, cert] of [
      ['a.test', A],
      ['b.test', B],
      ['chat.c.test', W],
    ] as const) {
      const s = await connect(srv.port, { servername: name, ca: cert.certPem, rejectUnauthorized: true });
      assert.is(peerFingerprint(s), cert.fingerprint256, name);
      assert.is(await roundTrip(s, `hi ${name}`), `hi ${name}`);
      s.destroy();
    }
  } finally {
    await srv.stop();
  }
});

test('a host the folder does not cover is served by the self-signed certificate, with a warning', async () => {
  const srv = await startEchoServer(store);
  try {
    const s = await connect(srv.port, { servername: 'room.a.test' });
    assert.ok(peerNames(s).includes('room.a.test'), peerNames(s).join(','));
    s.destroy();
    assert.ok(store.infoFor('room.a.test')?.selfSigned);
    assert.ok(
      log.lines.some((l) => l.startsWith('warn') && l.includes('room.a.test') && l.includes('self-signed')),
      log.lines.join('\n'),
    );
  } finally {
    await srv.stop();
  }
});

test('no SNI or an unknown name gets the main host certificate', async () => {
  const srv = await startEchoServer(store);
  try {
    const plain = await connect(srv.port); // an IP address: Node sends no SNI
    assert.is(peerFingerprint(plain), A.fingerprint256);
    plain.destroy();
    const unknown = await connect(srv.port, { servername: 'nobody.example' });
    assert.is(peerFingerprint(unknown), A.fingerprint256);
    unknown.destroy();
    // …and a verifying client rejects it for that name rather than silently accepting.
    assert.match(
      await rejection(connect(srv.port, { servername: 'nobody.example', ca: A.certPem, rejectUnauthorized: true })),
      /altnames/,
    );
  } finally {
    await srv.stop();
  }
});

test('lookups: exact, wildcard, none', () => {
  assert.ok(store.hasCertificateFor('A.TEST.'), 'case and trailing dot do not matter');
  assert.ok(store.hasCertificateFor('x.c.test'));
  assert.not.ok(store.hasCertificateFor('c.test'), 'a wildcard does not cover its parent');
  assert.not.ok(store.hasCertificateFor('y.x.c.test'), 'nor two labels down');
  assert.not.ok(store.hasCertificateFor('nobody.example'));
  assert.is(store.secureContextFor('nobody.example'), undefined);
  assert.is(new X509Certificate(store.certificatePemFor('b.test')!).fingerprint256, B.fingerprint256);
});

test('STARTTLS: a plain socket upgraded in place gets the certificate for the name the client asks', async () => {
  const server = net.createServer((raw) => {
    raw.once('data', (d) => {
      assert.is(d.toString(), 'STARTTLS\n');
      raw.write('PROCEED\n', async () => {
        const t = await store.wrapServerSocket(raw);
        t.on('data', (x) => t.write(x));
        t.on('error', () => t.destroy());
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const raw = net.connect(port, '127.0.0.1');
  try {
    await new Promise((r) => raw.once('connect', r));
    raw.write('STARTTLS\n');
    const reply = await new Promise<string>((r) => raw.once('data', (d) => r(d.toString())));
    assert.is(reply, 'PROCEED\n');
    const t = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: raw, servername: 'b.test', ca: B.certPem }, () => resolve(s));
      s.once('error', reject);
    });
    assert.ok(t.authorized);
    assert.is(peerFingerprint(t), B.fingerprint256);
    assert.is(await roundTrip(t, '<presence/>'), '<presence/>');
    t.destroy();
  } finally {
    raw.destroy();
    await new Promise((r) => server.close(r));
  }
});

test.run();
