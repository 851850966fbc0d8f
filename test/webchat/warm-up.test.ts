// The web chat's ahead-of-time compression (brotli 11 of converse.min.js, ~2 s of a core) waits a while after start,
// is cancelled when the server stops, and never makes a visitor wait: a page asked for before it is done gets a
// body compressed at a fast level, replaced by the best one once that is ready.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliDecompressSync } from 'node:zlib';
import { AssetStore } from '../../src/webchat/assets.js';
import { createWebchatHandler } from '../../src/webchat/handler.js';
import { COMPRESSION_CHILD, childrenWith } from '../helpers/child-processes.js';

/** Whether a compression child was seen running within `ms`. */
async function childSeenWithin(ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (childrenWith(COMPRESSION_CHILD).length > 0) return true;
    await sleep(5);
  }
  return false;
}

async function waitForChildrenToEnd(): Promise<void> {
  for (let i = 0; i < 2000 && childrenWith(COMPRESSION_CHILD).length > 0; i++) await sleep(10);
}

test('a request before the best compression is ready gets a fast body at once, then the best one', async () => {
  const store = await AssetStore.load();
  const js = store.get(store.urls.converseJs)!;
  const file = await readFile(js.file!);
  let bestReady = false;
  const fast = await store.bodyNow(js, 'br');
  void store.body(js, 'br').then(() => (bestReady = true)); // the same job bodyNow started
  assert.not.ok(bestReady, 'served before brotli 11 finished');
  assert.ok(brotliDecompressSync(fast).equals(file), 'the fast body is the file');
  const best = await store.body(js, 'br');
  assert.ok(brotliDecompressSync(best).equals(file), 'the best body is the file');
  assert.ok(best.length < fast.length, `the best body is smaller (${best.length} < ${fast.length})`);
  assert.is(await store.bodyNow(js, 'br'), best, 'once ready, requests get the best body');
  assert.is(store.cachedBytes, best.length, 'the fast body is no longer kept');
});

test('the ahead-of-time compression starts after warmAfterMs, and not at all once the handler is closed', async () => {
  await waitForChildrenToEnd();
  const options = { basePath: '/w', anonymousHost: 'a.x', mucHost: 'r.x', warmAfterMs: 100 };
  const closed = createWebchatHandler({ ...options, assets: AssetStore.load() });
  closed.close();
  const closedStore = await closed.ready;
  assert.not.ok(await childSeenWithin(1500), 'no compression after close()');
  assert.is(closedStore.cachedBytes, 0, 'nothing compressed');

  const open = createWebchatHandler({ ...options, assets: AssetStore.load() });
  const openStore = await open.ready;
  assert.ok(await childSeenWithin(5000), 'the compression child ran');
  open.close(); // the job in progress ends and is kept; what would follow it (gzip, the CSS) does not start
  for (let i = 0; i < 2000 && openStore.cachedBytes === 0; i++) await sleep(10);
  assert.ok(openStore.cachedBytes > 0, 'the job in progress finished and is kept');
  await waitForChildrenToEnd();
  assert.not.ok(await childSeenWithin(1500), 'nothing more was compressed after close()');
});

test.run();
