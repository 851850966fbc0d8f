import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CertificateStore } from '../../src/certs/store.js';
import {
  connect,
  makeCert,
  memoryLog,
  peerFingerprint,
  rejection,
  startEchoServer,
  tempDir,
  writeCert,
} from './fixtures.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir();
  try {
    await fn(dir);
  } finally {
    await cleanup();
  }
}

test('all layouts load: name.crt/.key, combined .pem, <domain>/fullchain.pem, live/<domain>/ symlinks', () =>
  withDir(async (dir) => {
    const f = join(dir, 'certs');
    const [plain, combo, le, live, ca] = await Promise.all(
      [['plain.test'], ['combo.test'], ['le.test', 'www.le.test'], ['live.test'], ['Some CA']].map((n) => makeCert(n)),
    );
    await mkdir(join(f, 'le.test'), { recursive: true });
    await writeCert(join(f, 'plain.test.crt'), join(f, 'plain.test.key'), plain);
    await writeFile(join(f, 'combo.pem'), combo.certPem + combo.keyPem);
    // fullchain.pem = leaf then intermediates
    await writeFile(join(f, 'le.test', 'fullchain.pem'), le.certPem + ca.certPem);
    await writeFile(join(f, 'le.test', 'privkey.pem'), le.keyPem);
    await writeFile(join(f, 'le.test', 'README'), 'certbot leaves this here');
    // certbot: live/<domain>/*.pem are symlinks into archive/<domain>/*N.pem
    await mkdir(join(f, 'archive', 'live.test'), { recursive: true });
    await mkdir(join(f, 'live', 'live.test'), { recursive: true });
    await writeFile(join(f, 'archive', 'live.test', 'fullchain1.pem'), live.certPem);
    await writeFile(join(f, 'archive', 'live.test', 'privkey1.pem'), live.keyPem);
    await symlink('../../archive/live.test/fullchain1.pem', join(f, 'live', 'live.test', 'fullchain.pem'));
    await symlink('../../archive/live.test/privkey1.pem', join(f, 'live', 'live.test', 'privkey.pem'));

    const log = memoryLog();
    const hosts = ['plain.test', 'combo.test', 'le.test', 'www.le.test', 'live.test'];
    const store = await CertificateStore.create({ dataDir: join(dir, 'data'), hosts, folder: f, log });
    try {
      for (const h of hosts) assert.not.ok(store.infoFor(h)?.selfSigned, `${h} comes from the folder`);
      assert.is(store.infoFor('www.le.test')!.source, join(f, 'le.test', 'fullchain.pem'));
      assert.is(store.infoFor('live.test')!.source, join(f, 'live', 'live.test', 'fullchain.pem'));
      assert.is(store.infoFor('combo.test')!.fingerprint256, combo.fingerprint256);
      assert.not.match(
        store.certificatePemFor('combo.test')!,
        /PRIVATE KEY/,
        'the key of a combined file never goes into the chain',
      );
      assert.is(
        store.certificatePemFor('le.test')!.match(/BEGIN CERTIFICATE/g)?.length,
        2,
        'the whole chain is served',
      );
      assert.not.ok(
        store.certificates().some((c) => c.selfSigned),
        'all hosts covered: no self-signed certificate made',
      );
      assert.is(log.lines.filter((l) => !l.startsWith('info')).length, 0, log.lines.join('\n'));

      const srv = await startEchoServer(store);
      try {
        for (const [h, c] of [
          ['live.test', live],
          ['www.le.test', le],
          ['combo.test', combo],
          ['plain.test', plain],
        ] as const) {
          const s = await connect(srv.port, { servername: h, ca: c.certPem, rejectUnauthorized: true });
          assert.is(peerFingerprint(s), c.fingerprint256, h);
          s.destroy();
        }
      } finally {
        await srv.stop();
      }
    } finally {
      store.close();
    }
  }));

test("the folder may itself be one Let's Encrypt live/<domain> folder", () =>
  withDir(async (dir) => {
    const c = await makeCert(['one.test']);
    await writeCert(join(dir, 'fullchain.pem'), join(dir, 'privkey.pem'), c);
    await writeFile(join(dir, 'cert.pem'), c.certPem); // certbot's leaf-only copy must not be read as a pair
    const store = await CertificateStore.create({
      dataDir: join(dir, 'data'),
      hosts: ['one.test'],
      folder: dir,
      log: memoryLog(),
    });
    assert.is(store.infoFor('one.test')!.fingerprint256, c.fingerprint256);
    assert.is(store.certificates().length, 1);
    store.close();
  }));

test('a key that does not belong to the certificate is a clear error naming both files', () =>
  withDir(async (dir) => {
    const [a, b] = await Promise.all([makeCert(['a.test']), makeCert(['b.test'])]);
    await mkdir(join(dir, 'a.test'));
    await writeFile(join(dir, 'a.test', 'fullchain.pem'), a.certPem);
    await writeFile(join(dir, 'a.test', 'privkey.pem'), b.keyPem);
    const msg = await rejection(
      CertificateStore.create({ dataDir: join(dir, 'data'), hosts: ['a.test'], folder: dir, log: memoryLog() }),
    );
    assert.match(
      msg,
      `${join(dir, 'a.test', 'privkey.pem')}: private key does not match the certificate in ${join(dir, 'a.test', 'fullchain.pem')}`,
    );
  }));

test('unreadable, not-PEM and missing files are named; several problems are listed together', () =>
  withDir(async (dir) => {
    const a = await makeCert(['a.test']);
    await mkdir(join(dir, 'a.test', 'privkey.pem'), { recursive: true }); // a directory where the key should be: EISDIR
    await writeFile(join(dir, 'a.test', 'fullchain.pem'), a.certPem);
    await writeFile(join(dir, 'b.crt'), 'this is not a certificate');
    await writeFile(join(dir, 'b.key'), a.keyPem);
    await writeFile(join(dir, 'c.crt'), a.certPem);
    await writeFile(join(dir, 'c.key'), 'neither is this a key');
    const msg = await rejection(
      CertificateStore.create({ dataDir: join(dir, 'data'), hosts: ['a.test'], folder: dir, log: memoryLog() }),
    );
    assert.match(msg, '3 problems');
    assert.match(msg, `${join(dir, 'a.test', 'privkey.pem')}: cannot read`);
    assert.match(msg, `${join(dir, 'b.crt')}: not a PEM certificate`);
    assert.match(msg, `${join(dir, 'c.key')}: not a PEM private key`);

    const missing = await rejection(
      CertificateStore.create({ dataDir: join(dir, 'data'), hosts: ['a.test'], folder: join(dir, 'nope') }),
    );
    assert.match(missing, `${join(dir, 'nope')}: cannot read certificate folder (ENOENT)`);
  }));

test('an expired certificate and a certificate without key are warned about, not fatal', () =>
  withDir(async (dir) => {
    const old = await makeCert(['old.test'], { notBefore: new Date(Date.now() - 100 * 86_400_000), days: 30 });
    const lone = await makeCert(['lone.test']);
    await writeCert(join(dir, 'old.crt'), join(dir, 'old.key'), old);
    await writeFile(join(dir, 'lone.crt'), lone.certPem);
    await writeFile(join(dir, 'dhparam.pem'), '-----BEGIN DH PARAMETERS-----\nAAAA\n-----END DH PARAMETERS-----\n');
    const log = memoryLog();
    const store = await CertificateStore.create({ dataDir: join(dir, 'data'), hosts: ['old.test'], folder: dir, log });
    assert.is(
      store.infoFor('old.test')!.fingerprint256,
      old.fingerprint256,
      'still served: better than nothing while renewal runs',
    );
    assert.ok(
      log.lines.some((l) => l.startsWith('warn') && l.includes(join(dir, 'old.crt')) && l.includes('expired')),
      log.lines.join('\n'),
    );
    assert.ok(
      log.lines.some((l) => l.startsWith('warn') && l.includes(join(dir, 'lone.crt')) && l.includes('no private key')),
      log.lines.join('\n'),
    );
    assert.not.ok(
      log.lines.some((l) => l.includes('dhparam')),
      'unrelated PEM files are ignored',
    );
    store.close();
  }));

test('of two certificates for one name, the one valid longest is served', () =>
  withDir(async (dir) => {
    const older = await makeCert(['x.test'], { days: 90 });
    const newer = await makeCert(['x.test'], { days: 180 });
    await writeCert(join(dir, 'x-2024.crt'), join(dir, 'x-2024.key'), older);
    await writeCert(join(dir, 'x-2025.crt'), join(dir, 'x-2025.key'), newer);
    const store = await CertificateStore.create({
      dataDir: join(dir, 'data'),
      hosts: ['x.test'],
      folder: dir,
      log: memoryLog(),
    });
    assert.is(store.infoFor('x.test')!.fingerprint256, newer.fingerprint256);
    store.close();
  }));

test.run();
