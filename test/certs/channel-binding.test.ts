import { spawn, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import type tls from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { channelBindings, endPointHash } from '../../src/certs/channel-binding.js';
import { CertificateStore } from '../../src/certs/store.js';
import { connect, makeCert, memoryLog, startEchoServer, tempDir, writeCert, type EchoServer } from './fixtures.js';

/** Connects and returns both ends' bindings once the handshake is done on both sides. */
async function bothEnds(port: number, srv: EchoServer, opts: tls.ConnectionOptions) {
  const n = srv.serverSockets.length;
  const client = await connect(port, opts);
  // The server's handshake may end a moment after the client's (TLS 1.3: after the client's Finished arrives).
  const { socket: server, secure } = srv.serverSockets[n];
  await secure;
  return { client, server, c: channelBindings(client, 'client'), s: channelBindings(server, 'server') };
}

async function withServer(
  names: string[],
  hash: 'sha256' | 'sha384' | 'sha512',
  fn: (port: number, srv: EchoServer, der: Buffer) => Promise<void>,
  onSecure?: (t: tls.TLSSocket) => void,
) {
  const { dir, cleanup } = await tempDir();
  const cert = await makeCert(names, { hash });
  await writeCert(join(dir, 'x.crt'), join(dir, 'x.key'), cert);
  const store = await CertificateStore.create({
    dataDir: join(dir, 'data'),
    hosts: names,
    folder: dir,
    log: memoryLog(),
  });
  const srv = await startEchoServer(store, onSecure);
  try {
    await fn(srv.port, srv, new X509Certificate(cert.certPem).raw);
  } finally {
    await srv.stop();
    store.close();
    await cleanup();
  }
}

test('TLS 1.3: tls-exporter and tls-server-end-point agree between client and server', () =>
  withServer(['cb.test'], 'sha256', async (port, srv, der) => {
    const one = await bothEnds(port, srv, { servername: 'cb.test', minVersion: 'TLSv1.3' });
    const two = await bothEnds(port, srv, { servername: 'cb.test', minVersion: 'TLSv1.3' });
    for (const x of [one, two]) {
      assert.is(x.client.getProtocol(), 'TLSv1.3');
      assert.ok(x.c['tls-exporter'] && x.c['tls-exporter'].length === 32);
      assert.equal(x.s['tls-exporter'], x.c['tls-exporter']);
      assert.equal(x.s['tls-server-end-point'], x.c['tls-server-end-point']);
      assert.equal(
        x.s['tls-server-end-point'],
        createHash('sha256').update(der).digest(),
        'SHA-256 of the server certificate',
      );
      // Not defined by RFC 5929 for TLS 1.3, but OpenSSL clients (slixmpp) send the client's Finished: both ends agree.
      assert.ok(x.s['tls-unique'] && x.s['tls-unique'].length >= 32);
      assert.equal(x.s['tls-unique'], x.c['tls-unique']);
      x.client.destroy();
    }
    assert.not.equal(one.s['tls-exporter'], two.s['tls-exporter'], 'each connection has its own exporter value');
  }));

test('TLS 1.2: tls-server-end-point and tls-unique agree, no tls-exporter', () =>
  withServer(['cb.test'], 'sha256', async (port, srv) => {
    const first = await bothEnds(port, srv, { servername: 'cb.test', maxVersion: 'TLSv1.2' });
    assert.is(first.client.getProtocol(), 'TLSv1.2');
    assert.is(first.s['tls-exporter'], undefined);
    assert.is(first.c['tls-exporter'], undefined);
    assert.ok(first.s['tls-server-end-point']);
    assert.equal(first.s['tls-server-end-point'], first.c['tls-server-end-point']);
    assert.ok(first.s['tls-unique'] && first.s['tls-unique'].length >= 12);
    assert.equal(first.s['tls-unique'], first.c['tls-unique']);

    // A resumed session: the server's Finished comes first; both ends must still agree.
    const session = first.client.getSession();
    first.client.destroy();
    const resumed = await bothEnds(port, srv, { servername: 'cb.test', maxVersion: 'TLSv1.2', session });
    assert.ok(resumed.client.isSessionReused(), 'the session was resumed');
    assert.equal(resumed.s['tls-unique'], resumed.c['tls-unique']);
    assert.not.equal(resumed.s['tls-unique'], first.s['tls-unique']);
    resumed.client.destroy();
  }));

test('tls-server-end-point follows the certificate signature hash (SHA-384 here)', () =>
  withServer(['cb384.test'], 'sha384', async (port, srv, der) => {
    const x = await bothEnds(port, srv, { servername: 'cb384.test' });
    assert.equal(x.c['tls-server-end-point'], createHash('sha384').update(der).digest());
    assert.equal(x.s['tls-server-end-point'], x.c['tls-server-end-point']);
    x.client.destroy();
  }));

test('endPointHash: SHA-1 signatures use SHA-256 (RFC 5929), SHA-512 stays, garbage gives none', async () => {
  const [sha1, sha512] = await Promise.all([
    makeCert(['a.test'], { hash: 'sha1' }),
    makeCert(['a.test'], { hash: 'sha512' }),
  ]);
  assert.is(endPointHash(new X509Certificate(sha1.certPem).raw), 'sha256');
  assert.is(endPointHash(new X509Certificate(sha512.certPem).raw), 'sha512');
  assert.is(endPointHash(Buffer.from([0x30, 0x82, 0xff])), undefined);
});

// Independent views through the openssl CLI, when installed (Debian package "openssl").
const openssl = spawnSync('openssl', ['version']).status === 0;

function run(args: string[], opts: { cwd?: string } = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('openssl', args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill(), 10_000);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    p.stdin.end(); // s_client: leave right after the handshake
  });
}

test('tls-exporter matches what openssl s_client exports (label EXPORTER-Channel-Binding, TLS 1.3)', async () => {
  assert.ok(openssl, 'the openssl CLI is missing: install Debian package "openssl" (this test compares against it)');
  let server: Buffer | undefined;
  await withServer(
    ['cb.test'],
    'sha256',
    async (port) => {
      const { out } = await run([
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-servername',
        'cb.test',
        '-tls1_3',
        '-keymatexport',
        'EXPORTER-Channel-Binding',
        '-keymatexportlen',
        '32',
      ]);
      const hex = /Keying material: ([0-9A-F]+)/.exec(out)?.[1];
      assert.ok(hex, out.slice(-500));
      assert.ok(server);
      assert.is(server!.toString('hex').toUpperCase(), hex);
    },
    (t) => (server = channelBindings(t)['tls-exporter']),
  );
});

test('openssl-made ECDSA, RSA-PSS and Ed25519 certificates: end-point hash per RFC 5929, both ends agree', async () => {
  assert.ok(openssl, 'the openssl CLI is missing: install Debian package "openssl" (this test compares against it)');
  const { dir, cleanup } = await tempDir();
  try {
    const common = ['req', '-x509', '-nodes', '-days', '2'];
    const make = (n: string, extra: string[]) =>
      run(
        [
          ...common,
          ...extra,
          '-keyout',
          `${n}.key`,
          '-out',
          `${n}.crt`,
          '-subj',
          `/CN=${n}.test`,
          '-addext',
          `subjectAltName=DNS:${n}.test`,
        ],
        { cwd: dir },
      );
    const made = await Promise.all([
      make('ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-sha384']),
      make('pss', [
        '-newkey',
        'rsa:2048',
        '-sigopt',
        'rsa_padding_mode:pss',
        '-sha512',
        '-sigopt',
        'rsa_pss_saltlen:-1',
      ]),
      make('ed', ['-newkey', 'ed25519']),
    ]);
    for (const m of made) assert.is(m.code, 0, m.out);
    const store = await CertificateStore.create({
      dataDir: join(dir, 'data'),
      hosts: ['ec.test', 'pss.test', 'ed.test'],
      folder: dir,
      log: memoryLog(),
    });
    const srv = await startEchoServer(store);
    try {
      for (const [name, hash] of [
        ['ec', 'sha384'],
        ['pss', 'sha512'],
        ['ed', undefined],
      ] as const) {
        const der = new X509Certificate(store.certificatePemFor(`${name}.test`)!).raw;
        assert.is(endPointHash(der), hash, name);
        const x = await bothEnds(srv.port, srv, { servername: `${name}.test` });
        assert.equal(x.c['tls-server-end-point'], hash && createHash(hash).update(der).digest(), name);
        assert.equal(x.s['tls-server-end-point'], x.c['tls-server-end-point'], name);
        assert.ok(x.s['tls-exporter'], `${name}: TLS 1.3 exporter still there`);
        x.client.destroy();
      }
    } finally {
      await srv.stop();
      store.close();
    }
  } finally {
    await cleanup();
  }
});

test.run();
