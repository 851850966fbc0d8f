import { X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CertificateStore } from '../../src/certs/store.js';
import { connect, makeCert, memoryLog, peerFingerprint, peerNames, startEchoServer, tempDir } from './fixtures.js';

const hosts = ['localhost', 'anon.localhost', 'room.localhost'];

test('without a folder, a self-signed certificate for the domain and its sub-hosts is made and saved', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const log = memoryLog();
    const store = await CertificateStore.create({ dataDir: dir, hosts, log });
    const crt = join(dir, 'certs', 'localhost.crt');
    const key = join(dir, 'certs', 'localhost.key');
    const x = new X509Certificate(await readFile(crt, 'utf8'));
    for (const h of hosts) assert.ok(x.subjectAltName?.includes(`DNS:${h}`), `SAN has ${h}: ${x.subjectAltName}`);
    assert.equal((await stat(key)).mode & 0o777, 0o600, 'private key is readable by the owner only');
    const years = (new Date(x.validTo).getTime() - Date.now()) / (365 * 86_400_000);
    assert.ok(years > 9, `valid for years, got ${years.toFixed(1)}`);
    assert.ok(
      log.lines.some((l) => l.includes('making a self-signed certificate')),
      'says it made one',
    );
    assert.ok(store.infoFor('room.localhost')?.selfSigned);
    store.close();
  } finally {
    await cleanup();
  }
});

test('the saved certificate is reused on the next start (same fingerprint) and served over TLS', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const first = await CertificateStore.create({ dataDir: dir, hosts });
    const fp = first.infoFor('localhost')!.fingerprint256;
    first.close();
    const log = memoryLog();
    const second = await CertificateStore.create({ dataDir: dir, hosts, log });
    assert.is(second.infoFor('localhost')!.fingerprint256, fp);
    assert.not.ok(
      log.lines.some((l) => l.includes('making')),
      'nothing regenerated',
    );
    const srv = await startEchoServer(second);
    try {
      // A client that pinned the saved certificate as its trust anchor accepts the server after the restart.
      const ca = await readFile(join(dir, 'certs', 'localhost.crt'), 'utf8');
      const s = await connect(srv.port, { servername: 'anon.localhost', ca, rejectUnauthorized: true });
      assert.is(peerFingerprint(s), fp);
      assert.ok(peerNames(s).includes('anon.localhost'));
      s.destroy();
    } finally {
      await srv.stop();
      second.close();
    }
  } finally {
    await cleanup();
  }
});

test('a changed host list or an expired certificate makes a new one', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const a = await CertificateStore.create({ dataDir: dir, hosts });
    const fpA = a.infoFor('localhost')!.fingerprint256;
    a.close();
    const b = await CertificateStore.create({ dataDir: dir, hosts: [...hosts, 'upload.localhost'] });
    const fpB = b.infoFor('localhost')!.fingerprint256;
    assert.is.not(fpB, fpA, 'new host → new certificate');
    assert.ok(b.infoFor('upload.localhost')!.names.includes('upload.localhost'));
    b.close();

    // Put an expired certificate for the same names in its place.
    const old = await makeCert(['localhost', 'anon.localhost', 'room.localhost', 'upload.localhost', '*.localhost'], {
      notBefore: new Date(Date.now() - 400 * 86_400_000),
      days: 365,
    });
    await writeFile(join(dir, 'certs', 'localhost.crt'), old.certPem);
    await writeFile(join(dir, 'certs', 'localhost.key'), old.keyPem);
    const c = await CertificateStore.create({ dataDir: dir, hosts: [...hosts, 'upload.localhost'] });
    const info = c.infoFor('localhost')!;
    assert.is.not(info.fingerprint256, old.fingerprint256);
    assert.ok(info.notAfter.getTime() > Date.now(), 'the new one is valid');
    c.close();
  } finally {
    await cleanup();
  }
});

test('a damaged saved key is replaced rather than failing the start', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    (await CertificateStore.create({ dataDir: dir, hosts })).close();
    await writeFile(join(dir, 'certs', 'localhost.key'), 'garbage');
    const log = memoryLog();
    const s = await CertificateStore.create({ dataDir: dir, hosts, log });
    assert.ok(s.hasCertificateFor('localhost'));
    assert.ok(
      log.lines.some((l) => l.includes('localhost.key') && l.includes('not a PEM private key')),
      log.lines.join('\n'),
    );
    s.close();
  } finally {
    await cleanup();
  }
});

test('generation leaves the event loop free (key pair made off the main thread)', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    const t0 = performance.now();
    const s = await CertificateStore.create({ dataDir: dir, hosts });
    const total = performance.now() - t0;
    clearInterval(timer);
    s.close();
    console.log(
      `  self-signed generation: ${total.toFixed(0)} ms total, longest event-loop stall ${maxGap.toFixed(0)} ms`,
    );
    // Generous bound: RSA-2048 generation in JS on the main thread would stall for seconds, forge's signing for tens of ms.
    assert.ok(maxGap < 250, `event loop stalled ${maxGap.toFixed(0)} ms`);
  } finally {
    await cleanup();
  }
});

test.run();
