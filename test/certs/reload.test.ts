import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
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
  reloadWhere,
  roundTrip,
  startEchoServer,
  tempDir,
  writeCert,
  type TestCert,
} from './fixtures.js';

const served = (c: TestCert) => (r: { certificates: { fingerprint256: string }[] }) =>
  r.certificates.some((x) => x.fingerprint256 === c.fingerprint256);

test('replacing the files reloads: new connections see the new certificate, open ones keep working', async () => {
  const { dir, cleanup } = await tempDir();
  const folder = join(dir, 'tls');
  await mkdir(folder);
  const [v1, v2, v3] = await Promise.all([makeCert(['a.test']), makeCert(['a.test']), makeCert(['a.test'])]);
  await writeCert(join(folder, 'a.test.crt'), join(folder, 'a.test.key'), v1);
  const log = memoryLog();
  const store = await CertificateStore.create({
    dataDir: join(dir, 'data'),
    hosts: ['a.test'],
    folder,
    log,
    debounceMs: 50,
  });
  store.watch();
  const srv = await startEchoServer(store);
  const open: tls.TLSSocket[] = [];
  try {
    const before = await connect(srv.port, { servername: 'a.test' });
    open.push(before);
    assert.is(peerFingerprint(before), v1.fingerprint256);

    // Overwrite in place, key first, the way an admin copying files would.
    const reloaded = reloadWhere(store, served(v2));
    await writeCert(join(folder, 'a.test.crt'), join(folder, 'a.test.key'), v2);
    await reloaded;
    const after = await connect(srv.port, { servername: 'a.test', ca: v2.certPem, rejectUnauthorized: true });
    open.push(after);
    assert.is(peerFingerprint(after), v2.fingerprint256);
    assert.is(
      await roundTrip(before, 'still here'),
      'still here',
      'the connection opened before the reload keeps working',
    );
    assert.is(peerFingerprint(before), v1.fingerprint256);

    // A bad replacement (certificate without its key) keeps the previous certificate and says so.
    const failed = reloadWhere(store, (r) => r.problems.length > 0);
    await writeFile(join(folder, 'a.test.crt'), v3.certPem);
    const r = await failed;
    assert.match(r.problems[0].message, `${join(folder, 'a.test.key')}: private key does not match`);
    assert.equal(r.kept, [join(folder, 'a.test.key')]);
    assert.ok(
      log.lines.some((l) => l.startsWith('error') && l.includes('still serving the previous certificate')),
      log.lines.join('\n'),
    );
    const during = await connect(srv.port, { servername: 'a.test' });
    open.push(during);
    assert.is(peerFingerprint(during), v2.fingerprint256);

    // The matching key arrives: now v3 is served.
    const fixed = reloadWhere(store, served(v3));
    await writeFile(join(folder, 'a.test.key'), v3.keyPem);
    const ok = await fixed;
    assert.is(ok.problems.length, 0);
    const last = await connect(srv.port, { servername: 'a.test' });
    open.push(last);
    assert.is(peerFingerprint(last), v3.fingerprint256);
    assert.is(await roundTrip(before, 'and still'), 'and still');
  } finally {
    for (const s of open) s.destroy();
    await srv.stop();
    store.close();
    await cleanup();
  }
});

test('certbot renewal (live/ symlinks re-pointed) and a new domain folder are picked up, for SNI and no-SNI clients', async () => {
  const { dir, cleanup } = await tempDir();
  const le = join(dir, 'letsencrypt');
  const [r1, r2, b] = await Promise.all([makeCert(['main.test']), makeCert(['main.test']), makeCert(['b.test'])]);
  await mkdir(join(le, 'archive', 'main.test'), { recursive: true });
  await mkdir(join(le, 'live', 'main.test'), { recursive: true });
  await writeCert(
    join(le, 'archive', 'main.test', 'fullchain1.pem'),
    join(le, 'archive', 'main.test', 'privkey1.pem'),
    r1,
  );
  await symlink('../../archive/main.test/fullchain1.pem', join(le, 'live', 'main.test', 'fullchain.pem'));
  await symlink('../../archive/main.test/privkey1.pem', join(le, 'live', 'main.test', 'privkey.pem'));
  const store = await CertificateStore.create({
    dataDir: join(dir, 'data'),
    hosts: ['main.test', 'b.test'],
    folder: le,
    log: memoryLog(),
    debounceMs: 50,
  });
  store.watch();
  assert.ok(store.infoFor('b.test')!.selfSigned, 'b.test starts on the self-signed fallback');

  const srv = await startEchoServer(store);
  const port = srv.port;
  try {
    // certbot writes the new archive files, then swaps each live symlink atomically.
    const renewed = reloadWhere(store, served(r2));
    await writeCert(
      join(le, 'archive', 'main.test', 'fullchain2.pem'),
      join(le, 'archive', 'main.test', 'privkey2.pem'),
      r2,
    );
    for (const [name, target] of [
      ['privkey.pem', 'privkey2.pem'],
      ['fullchain.pem', 'fullchain2.pem'],
    ]) {
      const tmp = join(le, 'live', 'main.test', `${name}.new`);
      await symlink(`../../archive/main.test/${target}`, tmp);
      await rename(tmp, join(le, 'live', 'main.test', name));
    }
    await renewed;
    const noSni = await connect(port);
    assert.is(peerFingerprint(noSni), r2.fingerprint256, 'a client without SNI gets the renewed main certificate');
    noSni.destroy();

    // A new live/<domain> folder is watched too.
    const added = reloadWhere(store, served(b));
    await mkdir(join(le, 'live', 'b.test'));
    await writeCert(join(le, 'live', 'b.test', 'fullchain.pem'), join(le, 'live', 'b.test', 'privkey.pem'), b);
    await added;
    const sb = await connect(port, { servername: 'b.test' });
    assert.is(peerFingerprint(sb), b.fingerprint256);
    sb.destroy();
    assert.not.ok(store.infoFor('b.test')!.selfSigned);

    // And when it goes away, b.test falls back to the self-signed certificate again.
    const removed = reloadWhere(store, (r) => !served(b)(r));
    await rm(join(le, 'live', 'b.test'), { recursive: true });
    await removed;
    assert.ok(store.infoFor('b.test')!.selfSigned);
  } finally {
    await srv.stop();
    store.close();
    await cleanup();
  }
});

test('close() stops watching: later changes do not reload', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const [v1, v2] = await Promise.all([makeCert(['a.test']), makeCert(['a.test'])]);
    await writeCert(join(dir, 'a.crt'), join(dir, 'a.key'), v1);
    const store = await CertificateStore.create({
      dataDir: join(dir, 'data'),
      hosts: ['a.test'],
      folder: dir,
      log: memoryLog(),
      debounceMs: 20,
    });
    store.watch();
    store.close();
    let reloads = 0;
    store.on('reload', () => reloads++);
    await writeCert(join(dir, 'a.crt'), join(dir, 'a.key'), v2);
    await new Promise((r) => setTimeout(r, 200));
    assert.is(reloads, 0);
    assert.is(store.infoFor('a.test')!.fingerprint256, v1.fingerprint256);
  } finally {
    await cleanup();
  }
});

test.run();
