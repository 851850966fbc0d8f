// The web chat's precompression keeps only what clients are served: the br and gzip bodies of the page's files,
// not also their uncompressed source (converse.min.js and its CSS, ~1.8 MB that nearly no client asks for). The
// large files are read by the compression child, not by the server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('warm() hands converse.min.js and its CSS to the compression child by path, for both encodings', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'asset-warm-'));
  const real = process.execPath;
  try {
    // The child runs through a wrapper that records its arguments.
    const args = join(dir, 'args.txt');
    const wrapper = join(dir, 'node-wrapper.sh');
    await writeFile(wrapper, `#!/bin/sh\nprintf '%s\\n' "$@" >> '${args}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    process.execPath = wrapper;
    const store = await AssetStore.load();
    await store.warm();
    const lines = (await readFile(args, 'utf8')).split('\n');
    for (const name of [store.urls.converseJs, store.urls.converseCss]) {
      const file = store.get(name)!.file!;
      assert.is(lines.filter((l) => l === file).length, 2, `${name}: the child read it, for br and for gzip`);
    }
  } finally {
    process.execPath = real;
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
