// /avatars/<sha1>.png over HTTP, on the standalone server and through the library's handleRequest mounted on
// someone else's HTTP server: immutable caching for a year, the hash as ETag, 304 on revalidation, 404 for a
// hash the server never handed out, HEAD without a body.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer as createHttp } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from '../helpers/server.js';
import { createServer } from '../../src/index.js';
import { silentLogger } from '../../src/log.js';

async function checkCaching(base: string, hash: string, png: Buffer): Promise<void> {
  const url = `${base}/avatars/${hash}.png`;
  const res = await fetch(url);
  assert.is(res.status, 200);
  assert.is(res.headers.get('content-type'), 'image/png');
  assert.is(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.is(res.headers.get('etag'), `"${hash}"`);
  assert.is(Number(res.headers.get('content-length')), png.length);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(png));

  const revalidated = await fetch(url, { headers: { 'if-none-match': `"${hash}"` } });
  assert.is(revalidated.status, 304);
  assert.is(revalidated.headers.get('etag'), `"${hash}"`);
  assert.is((await revalidated.arrayBuffer()).byteLength, 0);

  const stale = await fetch(url, { headers: { 'if-none-match': '"something-else"' } });
  assert.is(stale.status, 200);
  await stale.arrayBuffer();

  const head = await fetch(url, { method: 'HEAD' });
  assert.is(head.status, 200);
  assert.is(Number(head.headers.get('content-length')), png.length);

  const unknown = await fetch(`${base}/avatars/${'0'.repeat(40)}.png`);
  assert.is(unknown.status, 404);
  await unknown.arrayBuffer();
  const junk = await fetch(`${base}/avatars/../../etc/passwd`);
  assert.is(junk.status, 404);
  await junk.arrayBuffer();
  const post = await fetch(url, { method: 'POST', body: 'x' });
  assert.is(post.status, 405);
  await post.arrayBuffer();
}

test('standalone HTTP server', async () => {
  const srv = await startTestServer();
  try {
    const a = srv.server.avatars.forSeed('Alice')!;
    await checkCaching(srv.httpUrl, a.hash, a.png);
  } finally {
    await srv.stop();
  }
});

test("library: handleRequest on the embedding application's HTTP server", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'avatars-lib-'));
  const xmpp = createServer(
    {
      domain: 'localhost',
      dataDir,
      http: { listen: false },
      tcp: { enabled: false },
      avatars: { set: 'abstract', httpPath: '/chat/avatars' },
    },
    { logger: silentLogger },
  );
  await xmpp.start();
  const http = createHttp((req, res) => {
    if (!xmpp.handleRequest(req, res)) {
      res.writeHead(418);
      res.end();
    }
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  try {
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const a = xmpp.avatars.forSeed('Bob')!;
    const res = await fetch(`${base}/chat/avatars/${a.hash}.png`);
    assert.is(res.status, 200);
    assert.is(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(a.png));
    const notOurs = await fetch(`${base}/avatars/${a.hash}.png`);
    assert.is(notOurs.status, 418, 'other paths are left to the application');
    await notOurs.arrayBuffer();
  } finally {
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
    await xmpp.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test.run();
