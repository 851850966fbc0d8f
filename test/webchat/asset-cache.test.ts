// The web chat's precompression keeps only what clients are served: the br and gzip bodies of the page's files,
// not also their uncompressed source (converse.min.js and its CSS, ~1.8 MB that nearly no client asks for).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { AssetStore } from '../../src/webchat/assets.js';

test('after warm(), the cache holds the compressed bodies only; identity is still served from the file', async () => {
  const store = await AssetStore.load();
  await store.warm();
  const { converseJs, converseCss, bootJs, bootCss } = store.urls;
  let compressed = 0;
  for (const name of [converseJs, converseCss, bootJs, bootCss]) {
    const a = store.get(name)!;
    assert.ok(a.compressible, `${name} is compressible`);
    for (const enc of ['br', 'gzip'] as const) compressed += (await store.body(a, enc)).length;
  }
  assert.is(store.cachedBytes, compressed, 'nothing but the br and gzip bodies is cached');
  const js = store.get(converseJs)!;
  const identity = await store.body(js, 'identity');
  assert.ok(identity.equals(await readFile(js.file!)), 'identity body is the file');
  assert.is(store.cachedBytes, compressed + identity.length, 'served once, identity is cached like any body');
});

test.run();
