import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseServerName } from '../../src/certs/client-hello.js';
import { CertificateStore } from '../../src/certs/store.js';
import {
  connect,
  makeCert,
  memoryLog,
  peerFingerprint,
  roundTrip,
  startEchoServer,
  tempDir,
  writeCert,
} from './fixtures.js';

/** The first bytes a real Node TLS client sends. */
async function captureHello(opts: tls.ConnectionOptions): Promise<Buffer> {
  let got = Buffer.alloc(0);
  let client: tls.TLSSocket | undefined;
  const hello = new Promise<Buffer>((resolve) => {
    const server = net.createServer((s) => {
      s.on('data', (d) => {
        got = Buffer.concat([got, d]);
        if (parseServerName(got) !== null) {
          s.destroy();
          server.close();
          resolve(got);
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      client = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, ...opts });
      client.on('error', () => {});
    });
  });
  const buf = await hello;
  client?.destroy();
  return buf;
}

test('the SNI name is read from a real ClientHello, also when split over two records or cut short', async () => {
  const hello = await captureHello({ servername: 'chat.example.test' });
  assert.is(parseServerName(hello), 'chat.example.test');
  assert.is(parseServerName(hello.subarray(0, 40)), null, 'incomplete: wait for more');
  // Re-frame the handshake message into two TLS records, as a client may.
  const body = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const half = body.length >> 1;
  const rec = (b: Buffer) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, b.length >> 8, b.length & 0xff]), b]);
  const split = Buffer.concat([rec(body.subarray(0, half)), rec(body.subarray(half))]);
  assert.is(parseServerName(split.subarray(0, 5 + half + 3)), null);
  assert.is(parseServerName(split), 'chat.example.test');
  assert.is(parseServerName(await captureHello({})), undefined, 'no SNI to an IP address');
  assert.is(parseServerName(Buffer.from("<?xml version='1.0'?><stream:stream")), undefined, 'not TLS at all');
});

const openssl = spawnSync('openssl', ['version']).status === 0;

test('mixed key types: an ECDSA main certificate does not shadow an RSA one chosen by SNI (TLS 1.3)', async () => {
  assert.ok(openssl, 'the openssl CLI is missing: install Debian package "openssl" (this test compares against it)');
  const { dir, cleanup } = await tempDir();
  try {
    const r = spawnSync('openssl', [
      'req',
      '-x509',
      '-nodes',
      '-days',
      '2',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-keyout',
      join(dir, 'main.key'),
      '-out',
      join(dir, 'main.crt'),
      '-subj',
      '/CN=main.test',
      '-addext',
      'subjectAltName=DNS:main.test',
    ]);
    assert.is(r.status, 0, r.stderr.toString());
    const rsa = await makeCert(['other.test']);
    await writeCert(join(dir, 'other.crt'), join(dir, 'other.key'), rsa);
    const store = await CertificateStore.create({
      dataDir: join(dir, 'data'),
      hosts: ['main.test', 'other.test'],
      folder: dir,
      log: memoryLog(),
    });
    const srv = await startEchoServer(store);
    try {
      const s = await connect(srv.port, {
        servername: 'other.test',
        minVersion: 'TLSv1.3',
        ca: rsa.certPem,
        rejectUnauthorized: true,
      });
      assert.is(peerFingerprint(s), rsa.fingerprint256);
      assert.is(await roundTrip(s, 'ok'), 'ok');
      s.destroy();
      const main = await connect(srv.port, {
        servername: 'main.test',
        ca: await readFile(join(dir, 'main.crt'), 'utf8'),
        rejectUnauthorized: true,
      });
      assert.is(peerFingerprint(main), store.infoFor('main.test')!.fingerprint256);
      main.destroy();
    } finally {
      await srv.stop();
    }

    // Why the store picks the certificate from the ClientHello itself: a server relying on SNICallback alone serves
    // the ECDSA main certificate here (Node keeps both). If this starts failing, Node fixed it and the ClientHello
    // peek may be dropped.
    const plain = net.createServer((raw) => {
      const t = new tls.TLSSocket(raw, store.tlsSocketOptions());
      t.on('error', () => t.destroy());
    });
    await new Promise<void>((res) => plain.listen(0, '127.0.0.1', res));
    const s2 = await connect((plain.address() as net.AddressInfo).port, {
      servername: 'other.test',
      minVersion: 'TLSv1.3',
    });
    assert.is.not(
      peerFingerprint(s2),
      rsa.fingerprint256,
      'SNICallback alone now serves the RSA certificate chosen by SNI',
    );
    s2.destroy();
    await new Promise((res) => plain.close(res));
    store.close();
  } finally {
    await cleanup();
  }
});

test.run();
