// The large web chat assets' compressed bodies are kept in the data folder (<data>/cache/webchat): a restart serves
// them from there and starts no compression child; a torn or damaged file is never served; a ConverseJS upgrade
// leaves no old files behind; a folder that cannot be written only means compressing at every start, as before.
// A small ConverseJS-shaped fixture (two files just above the out-of-process size) keeps brotli 11 short.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { AssetStore, converseDistDir, type Asset } from '../../src/webchat/assets.js';
import { OUT_OF_PROCESS_MIN_BYTES } from '../../src/webchat/compress-child.js';
import { startTestServer } from '../helpers/server.js';
import { COMPRESSION_CHILD } from '../helpers/child-processes.js';

const ENCODINGS = ['br', 'gzip'] as const;
type Enc = (typeof ENCODINGS)[number];

interface Ctx {
  dir: string;
  dist: string;
  /** A cache folder filled by a first start: tests copy it. */
  filled: string;
  /** The bodies that first start served, by `${enc}:${asset name}`. */
  best: Map<string, Buffer>;
  /** Compression children the first start ran. */
  firstChildren: number;
  n: number;
}

/** Text-like and a little random, just above the size that is compressed out of process. */
function sourceText(prefix: string): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < OUT_OF_PROCESS_MIN_BYTES + 8 * 1024; i++) {
    const line = `${prefix}${i}{content:"${randomBytes(6).toString('hex')}"}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(''));
}

/** A ConverseJS-shaped dist/ folder: its package.json beside it, converse.min.js and converse.min.css in it. */
async function fixture(root: string, version: string): Promise<string> {
  const dist = join(root, 'dist');
  await mkdir(dist, { recursive: true });
  await writeFile(join(root, 'package.json'), JSON.stringify({ version }));
  await writeFile(join(dist, 'converse.min.js'), sourceText('function f'));
  await writeFile(join(dist, 'converse.min.css'), sourceText('.c'));
  return dist;
}

/** Runs `work` with node children going through a wrapper that counts the compression children among them. */
async function countingChildren<T>(dir: string, work: () => Promise<T>): Promise<{ result: T; children: number }> {
  const log = join(dir, `children-${randomBytes(4).toString('hex')}.log`);
  const wrapper = join(dir, `node-${randomBytes(4).toString('hex')}.sh`);
  const real = process.execPath;
  await writeFile(log, '');
  await writeFile(
    wrapper,
    `#!/bin/sh\ncase "$*" in *${COMPRESSION_CHILD}*) echo child >> '${log}';; esac\nexec '${real}' "$@"\n`,
    { mode: 0o755 },
  );
  process.execPath = wrapper;
  try {
    const result = await work();
    return { result, children: (await readFile(log, 'utf8')).split('\n').filter(Boolean).length };
  } finally {
    process.execPath = real;
  }
}

function large(store: AssetStore): Asset[] {
  return [store.get(store.urls.converseJs)!, store.get(store.urls.converseCss)!];
}

function decompress(body: Buffer, enc: Enc): Buffer {
  return enc === 'br' ? brotliDecompressSync(body) : gunzipSync(body);
}

/** What browsers get for the large files, after warm() as a server does it; checked against the files. */
async function served(store: AssetStore): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const a of large(store)) {
    const file = await readFile(a.file!);
    for (const enc of ENCODINGS) {
      const body = await store.bodyNow(a, enc);
      assert.ok(decompress(body, enc).equals(file), `${enc} ${a.name} decompresses to the file`);
      out.set(`${enc}:${a.name}`, body);
    }
  }
  return out;
}

/** The bytes a browser receives for a URL (fetch() would decompress them). */
function getBr(url: URL): Promise<{ encoding: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { 'Accept-Encoding': 'br' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A fresh copy of the first start's folder. */
async function copyOfFilled(ctx: Ctx): Promise<string> {
  const to = join(ctx.dir, `cache-${++ctx.n}`);
  await cp(ctx.filled, to, { recursive: true });
  return to;
}

const t = suite<Ctx>('web chat bodies kept on disk');

t.before(async (ctx) => {
  ctx.n = 0;
  ctx.dir = await mkdtemp(join(tmpdir(), 'webchat-body-cache-'));
  ctx.dist = await fixture(join(ctx.dir, 'converse'), '1.0.0');
  ctx.filled = join(ctx.dir, 'data', 'cache', 'webchat');
  const first = await countingChildren(ctx.dir, async () => {
    const store = await AssetStore.load({ distDir: ctx.dist, cacheDir: ctx.filled });
    await store.warm();
    return served(store);
  });
  ctx.best = first.result;
  ctx.firstChildren = first.children;
});

t.after(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

t('a first start compresses the large files in children and keeps their bodies in the folder', async (ctx) => {
  assert.is(ctx.firstChildren, 4, 'br and gzip of the script and of the CSS, each in a child');
  assert.is((await readdir(ctx.filled)).length, 4, 'one file per large body');
  const files = await Promise.all((await readdir(ctx.filled)).map((f) => readFile(join(ctx.filled, f))));
  for (const [key, body] of ctx.best) {
    assert.ok(
      files.some((f) => f.subarray(f.length - body.length).equals(body)),
      `${key}: its body is in a file`,
    );
  }
});

t('a restart on the same folder serves the same br and gzip bodies without any compression child', async (ctx) => {
  const cacheDir = await copyOfFilled(ctx);
  const { result, children } = await countingChildren(ctx.dir, async () => {
    const store = await AssetStore.load({ distDir: ctx.dist, cacheDir });
    await store.warm();
    // warm() leaves kept bodies on disk until asked for: none of them is in memory yet.
    const smallest = Math.min(...[...ctx.best.values()].map((b) => b.length));
    assert.ok(store.cachedBytes < smallest, `warm() read no large body (${store.cachedBytes} B in memory)`);
    return served(store);
  });
  assert.is(children, 0, 'no compression child');
  for (const [key, body] of ctx.best) assert.ok(result.get(key)!.equals(body), `${key}: the same bytes`);
});

t('a torn or damaged file is not served: the body is compressed again and its file rewritten', async (ctx) => {
  const cacheDir = await copyOfFilled(ctx);
  const before = new Map<string, Buffer>();
  for (const f of await readdir(cacheDir)) before.set(f, await readFile(join(cacheDir, f)));
  // One asset's two files: its br file cut short (a crash in mid-write), one byte of its gzip file changed (a bad disk).
  const brFile = [...before.keys()].find((f) => f.includes('.br.'))!;
  const asset = brFile.slice(0, brFile.indexOf('.'));
  const gzipFile = [...before.keys()].find((f) => f.startsWith(`${asset}.gzip.`))!;
  await truncate(join(cacheDir, brFile), Math.floor(before.get(brFile)!.length / 2));
  const damaged = Buffer.from(before.get(gzipFile)!);
  damaged[damaged.length - 100]! ^= 0xff;
  await writeFile(join(cacheDir, gzipFile), damaged);

  const { children } = await countingChildren(ctx.dir, async () => {
    const store = await AssetStore.load({ distDir: ctx.dist, cacheDir });
    // What a browser gets at once, then the best body once made: the asset's bytes, never the file's.
    await served(store);
    for (const a of large(store)) for (const enc of ENCODINGS) await store.body(a, enc);
    const after = await served(store);
    for (const [key, body] of ctx.best) assert.ok(after.get(key)!.equals(body), `${key}: the best body again`);
  });
  assert.is(children, 2, 'the two bad files were compressed again, the two good ones read');
  for (const [f, bytes] of before) assert.ok((await readFile(join(cacheDir, f))).equals(bytes), `${f} rewritten whole`);

  const again = await countingChildren(ctx.dir, async () =>
    served(await AssetStore.load({ distDir: ctx.dist, cacheDir })),
  );
  assert.is(again.children, 0, 'the rewritten files are used by the next start');
});

t(
  'at start, files that are not the current assets’ bodies are deleted: an older ConverseJS, temp files',
  async (ctx) => {
    const cacheDir = await copyOfFilled(ctx);
    const current = (await readdir(cacheDir)).sort();
    const [one] = current;
    const [id, enc] = one!.split('.');
    const kept = await readFile(join(cacheDir, one!));
    const stale = [
      `OldConverse0-abcdefgh.${enc}.abcdefghij`, // another ConverseJS's tag
      `${id}.${enc}.0000000000`, // the same asset compressed with other settings
      `${one}.4242.1.tmp`, // left by a crash in mid-write
      'notes.txt',
    ];
    for (const f of stale) await writeFile(join(cacheDir, f), kept);

    await AssetStore.load({ distDir: ctx.dist, cacheDir });
    assert.equal((await readdir(cacheDir)).sort(), current, 'only the current bodies are left');

    // An upgraded ConverseJS (other files, so another tag): none of the old bodies stays.
    const upgraded = await fixture(join(ctx.dir, `converse-${++ctx.n}`), '1.0.1');
    const store = await AssetStore.load({ distDir: upgraded, cacheDir });
    assert.is.not(store.urls.converseDir, (await AssetStore.load({ distDir: ctx.dist })).urls.converseDir);
    assert.equal(await readdir(cacheDir), [], 'the old version’s files are gone');
  },
);

t('a folder that cannot be written: bodies are compressed and served as before, with one warning', async (ctx) => {
  const notAFolder = join(ctx.dir, `a-file-${++ctx.n}`);
  await writeFile(notAFolder, 'not a folder');
  const cacheDir = join(notAFolder, 'cache', 'webchat');
  for (const start of ['first', 'second']) {
    const warnings: string[] = [];
    const { children } = await countingChildren(ctx.dir, async () => {
      const store = await AssetStore.load({ distDir: ctx.dist, cacheDir });
      store.onDiskFailure = (why) => warnings.push(why);
      const js = store.get(store.urls.converseJs)!;
      const file = await readFile(js.file!);
      for (const enc of ENCODINGS) assert.ok(decompress(await store.body(js, enc), enc).equals(file), enc);
    });
    assert.is(children, 2, `${start} start: compressed in children, as without a folder`);
    assert.is(warnings.length, 1, `${start} start: one warning however many bodies`);
    assert.match(warnings[0]!, cacheDir);
  }
});

t(
  'the standalone server keeps them in <data>/cache/webchat: restarted, it serves them without compressing',
  async (ctx) => {
    const first = await startTestServer();
    const cacheDir = join(first.dataDir, 'cache', 'webchat');
    try {
      const page = await (await fetch(`${first.httpUrl}/webchat/room/demo`)).text();
      const css = /href="([^"]*converse\.min\.css)"/.exec(page)?.[1];
      assert.ok(css, 'the page links converse.min.css');
      const path = new URL(css!, first.httpUrl).pathname;
      const fast = await getBr(new URL(path, first.httpUrl));
      assert.is(fast.encoding, 'br');
      // The best body is made in the background; the server keeps it in its data folder.
      const kept = async () => (await readdir(cacheDir).catch(() => [])).some((f) => f.includes('.br.'));
      for (let i = 0; i < 600 && !(await kept()); i++) await sleep(50);
      await first.stop(true);

      const { result, children } = await countingChildren(ctx.dir, async () => {
        const second = await startTestServer({}, { dataDir: first.dataDir });
        try {
          return await getBr(new URL(path, second.httpUrl));
        } finally {
          await second.stop(true);
        }
      });
      assert.is(children, 0, 'no compression child after the restart');
      assert.is(result.encoding, 'br');
      const file = await readFile(join(converseDistDir(), 'converse.min.css'));
      assert.ok(brotliDecompressSync(result.body).equals(file), 'the browser gets the CSS');
      const [got, before] = [result.body.length, fast.body.length];
      assert.ok(got < before, `the best body at once, not a fast one (${got} < ${before} B)`);
    } finally {
      await rm(first.dataDir, { recursive: true, force: true });
    }
  },
);

t.run();
