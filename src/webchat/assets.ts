// The static files behind the chat page: ConverseJS's dist/ folder (served under a version-tagged
// directory, because its code computes chunk, emoji and font URLs relative to `assets_path` and so
// the file names themselves cannot be hashed), plus our own boot script and CSS under content-hashed
// names. Everything is immutable for the life of the process, so bodies and their compressed forms are
// read and compressed once (lazily, off the event loop) and kept in a size-bounded LRU; given a folder, the large
// files' compressed bodies are kept there too, so that a restart does not compress them again (body-cache.ts).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';
import { contentTypeFor, isCompressible } from './content-types.js';
import { compressFileStream, type Encoding } from './encoding.js';
import { compressAsset, compressFile, OUT_OF_PROCESS_MIN_BYTES } from './compress-child.js';
import { BodyCache } from './body-cache.js';
import { BOOT_JS } from './client/boot.js';
import { MODERATION_JS } from './client/moderation.js';
import { WEBCHAT_CSS } from './client/style.js';

export interface Asset {
  /** Path below `<base>/assets/`. */
  readonly name: string;
  readonly type: string;
  readonly compressible: boolean;
  /** Strong validator of the identity body; encoded variants append `-br` / `-gz`. */
  readonly etag: string;
  /** Where to read the body from, unless it is built in. */
  readonly file?: string;
  readonly inline?: Buffer;
}

/** What body() finds on disk for a file. */
interface DiskLookup {
  size: number;
  /** The body's file name in the disk folder, if it is kept there. */
  name?: string;
  /** The body read from it, when there is a complete one. */
  kept?: Buffer;
}

export interface AssetUrls {
  /** Directory (ending in '/') that ConverseJS uses as `assets_path`. */
  converseDir: string;
  converseJs: string;
  converseCss: string;
  bootJs: string;
  bootCss: string;
}

/** dist/ entries that a browser never needs from us: source maps, the project website's CSS, OMEMO (disabled). */
const SKIP = /(\.map$|^website\.|^libomemo|^curve25519|^manifest\.json$|^shared-connection-worker\.js$|README$)/;
/** The walk is bounded: converse 14 ships ~400 files. */
const MAX_FILES = 5000;

function shortHash(data: string | Buffer, len = 12): string {
  return createHash('sha256').update(data).digest('base64url').slice(0, len);
}

/** shortHash(whole file, 43), read in chunks: the server never holds a large asset whole (see compress-child.ts). */
async function fileHash(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('base64url');
}

/**
 * Locates converse.js's dist/: the copy the PeerTube plugin package ships beside the compiled code
 * (<package>/dist/converse.js/dist, see scripts/plugin-pack.mjs) when there is one, else through Node resolution,
 * so hoisting or a plugin's own node_modules both work.
 */
export function converseDistDir(): string {
  const shipped = fileURLToPath(new URL('../../converse.js/dist', import.meta.url));
  if (existsSync(join(shipped, 'converse.min.js'))) return shipped;
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('converse.js/dist/converse.min.js'));
}

async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) pending.push(p);
      else if (e.isFile()) out.push(p);
      if (out.length > MAX_FILES) throw new Error(`webchat: too many files under ${root}`);
    }
  }
  return out;
}

export class AssetStore {
  private readonly bodies: LRUCache<string, Buffer>;
  private readonly inflight = new Map<string, Promise<Buffer>>();
  /** Sizes of the indexed files asked for so far (the files are immutable while the process runs). */
  private readonly sizes = new Map<string, Promise<number>>();
  /** Large bodies kept on disk across restarts, when a folder is given. */
  private readonly disk: BodyCache | undefined;
  /** A body being made: its look-up on disk, so that a request can tell whether the best body is moments away. */
  private readonly lookups = new Map<string, Promise<DiskLookup>>();
  /** Told when a large asset could not be compressed out of process (and was compressed in it instead). */
  onFallback: ((why: string) => void) | undefined = undefined;
  /** Told once when the disk folder cannot be used (read-only data folder…): bodies are then compressed every start. */
  onDiskFailure: ((why: string) => void) | undefined = undefined;

  private constructor(
    private readonly assets: Map<string, Asset>,
    readonly urls: AssetUrls,
    readonly converseVersion: string,
    cacheBytes: number,
    cacheDir: string | undefined,
  ) {
    this.bodies = new LRUCache<string, Buffer>({ maxSize: cacheBytes, sizeCalculation: (b) => Math.max(1, b.length) });
    if (cacheDir !== undefined) this.disk = new BodyCache(cacheDir, (why) => this.onDiskFailure?.(why));
  }

  /** Deletes the disk folder's files that are not bodies of these assets (a ConverseJS upgrade leaves old ones). */
  private pruneDisk(): Promise<void> {
    if (!this.disk) return Promise.resolve();
    const byId = new Map<string, Asset>();
    for (const a of this.assets.values()) {
      const id = BodyCache.idOf(a.etag);
      if (a.file && a.compressible && id !== undefined) byId.set(id, a);
    }
    return this.disk.prune((id) => {
      const a = byId.get(id);
      // Only large bodies are kept: a small one is compressed in moments, in process.
      return a && this.fileSize(a).then((size) => (size >= OUT_OF_PROCESS_MIN_BYTES ? size : undefined));
    });
  }

  /**
   * Indexes the files (directory walk + one hash of converse.min.js for the version tag). `cacheDir`: where the large
   * files' compressed bodies are kept across restarts (files of other assets there are deleted).
   */
  static async load(opts: { distDir?: string; cacheBytes?: number; cacheDir?: string } = {}): Promise<AssetStore> {
    const distDir = opts.distDir ?? converseDistDir();
    const pkg = JSON.parse(await readFile(join(distDir, '..', 'package.json'), 'utf8')) as { version?: string };
    const mainJs = await fileHash(join(distDir, 'converse.min.js'));
    const mainCss = await stat(join(distDir, 'converse.min.css'));
    // The tag changes whenever the installed converse changes, so immutable caching stays correct.
    const tag = shortHash(`${pkg.version}\n${mainCss.size}\n`.concat(mainJs), 10);
    const converseDir = `c-${tag}/`;
    const assets = new Map<string, Asset>();
    for (const file of await walk(distDir)) {
      const rel = relative(distDir, file).split(sep).join('/');
      if (SKIP.test(rel) || SKIP.test(rel.split('/').pop()!)) continue;
      const type = contentTypeFor(rel);
      if (!type) continue;
      const name = converseDir + rel;
      assets.set(name, { name, type, compressible: isCompressible(type), etag: `"${tag}-${shortHash(rel, 8)}"`, file });
    }
    const ownJs = Buffer.from(MODERATION_JS + BOOT_JS, 'utf8');
    const ownCss = Buffer.from(WEBCHAT_CSS, 'utf8');
    const jsHash = shortHash(ownJs, 10);
    const cssHash = shortHash(ownCss, 10);
    const bootJs = `webchat.${jsHash}.js`;
    const bootCss = `webchat.${cssHash}.css`;
    assets.set(bootJs, {
      name: bootJs,
      type: contentTypeFor(bootJs)!,
      compressible: true,
      etag: `"${jsHash}"`,
      inline: ownJs,
    });
    assets.set(bootCss, {
      name: bootCss,
      type: contentTypeFor(bootCss)!,
      compressible: true,
      etag: `"${cssHash}"`,
      inline: ownCss,
    });
    const urls: AssetUrls = {
      converseDir,
      converseJs: converseDir + 'converse.min.js',
      converseCss: converseDir + 'converse.min.css',
      bootJs,
      bootCss,
    };
    const store = new AssetStore(
      assets,
      urls,
      pkg.version ?? 'unknown',
      opts.cacheBytes ?? 48 * 1024 * 1024,
      opts.cacheDir,
    );
    await store.pruneDisk(); // a few file names and stats: done before anything is read or written there
    return store;
  }

  /** Only indexed names resolve, so no request path ever reaches the file system unchecked. */
  get(name: string): Asset | undefined {
    return this.assets.get(name);
  }

  get size(): number {
    return this.assets.size;
  }

  /** Bytes of bodies held in memory (identity and compressed). */
  get cachedBytes(): number {
    return this.bodies.calculatedSize;
  }

  /**
   * The body in the given encoding, compressed at the highest level (or read from the disk folder, for a large one
   * compressed by an earlier start); identical concurrent requests share one read/compression.
   */
  body(asset: Asset, enc: Encoding): Promise<Buffer> {
    const key = `${enc}:${asset.name}`;
    return this.once(key, async () => {
      if (enc === 'identity') return this.readRaw(asset);
      if (asset.inline) return compressAsset(asset.inline, enc, this.onFallback);
      const lookup = this.lookUp(asset, enc); // set before the first await: bodyNow() finds it
      this.lookups.set(key, lookup);
      try {
        const { size, name, kept } = await lookup;
        // A compressed body is made from the file, not from a cached identity body: nearly every client takes br or
        // gzip, so caching converse.min.js and its CSS uncompressed too would keep ~1.8 MB that is rarely served.
        const best = kept ?? (await compressFile(asset.file!, enc, this.onFallback, size));
        this.bodies.delete(`fast-${key}`);
        // Kept for the next start; a failure is reported once and otherwise harmless.
        if (!kept && name !== undefined) await this.disk!.write(name, best);
        return best;
      } finally {
        this.lookups.delete(key);
      }
    });
  }

  /** A file's size, and for a large one with a disk folder, its file name there and the body kept in it if any. */
  private async lookUp(asset: Asset, enc: Exclude<Encoding, 'identity'>): Promise<DiskLookup> {
    const size = await this.fileSize(asset);
    const name = this.diskName(asset, enc, size);
    return { size, name, kept: name === undefined ? undefined : await this.disk!.read(name) };
  }

  private diskName(asset: Asset, enc: Exclude<Encoding, 'identity'>, size: number): string | undefined {
    if (!this.disk || size < OUT_OF_PROCESS_MIN_BYTES) return undefined;
    return BodyCache.fileName(asset.etag, enc, size);
  }

  /**
   * The body for a request now: the highest compression when it is ready (or kept on disk), else one made at a fast
   * level while the highest is made in the background (brotli 11 of converse.min.js takes seconds, more on a busy
   * machine; the first visitors after a start should not wait for it).
   */
  async bodyNow(asset: Asset, enc: Encoding): Promise<Buffer> {
    const key = `${enc}:${asset.name}`;
    const making = this.body(asset, enc);
    if (this.bodies.has(key) || enc === 'identity' || asset.inline) return making;
    making.catch(() => {}); // its failure reaches whoever waits for it (a small body's request, warm())
    // Kept on disk by an earlier start: the best body is a file read away.
    const onDisk = this.lookups.get(key)?.then(({ kept }) => kept !== undefined);
    if (await onDisk?.catch(() => false)) return making;
    const size = await this.fileSize(asset);
    // A small body is compressed at the highest level in moments, in process: wait for that one.
    if (size < OUT_OF_PROCESS_MIN_BYTES) return making;
    // Streamed from the file: the server never holds a large asset whole (see compress-child.ts). Not kept once the
    // best body has landed meanwhile.
    return this.once(
      `fast-${key}`,
      () => compressFileStream(asset.file!, size, enc, 'fast'),
      () => !this.bodies.has(key),
    );
  }

  /** A file's size, read once: both the best and the fast compression decide by it. */
  private fileSize(asset: Asset): Promise<number> {
    let size = this.sizes.get(asset.name);
    if (!size) {
      size = stat(asset.file!).then((s) => s.size);
      size.catch(() => this.sizes.delete(asset.name)); // asked again on the next request
      this.sizes.set(asset.name, size);
    }
    return size;
  }

  /**
   * A cached body, or the one `make` resolves to (made once however many ask meanwhile), then cached unless `keep`
   * says otherwise.
   */
  private once(key: string, make: () => Promise<Buffer>, keep: () => boolean = () => true): Promise<Buffer> {
    const hit = this.bodies.get(key);
    if (hit) return Promise.resolve(hit);
    let p = this.inflight.get(key);
    if (!p) {
      p = make()
        .then((b) => {
          if (keep()) this.bodies.set(key, b);
          return b;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /**
   * Starts compressing the files every page load needs, so the first visitor does not wait for brotli 11. Bodies
   * kept on disk by an earlier start are left there until a page asks for them (a file read away, and memory is not
   * spent on an encoding no client may ask for).
   */
  async warm(encodings: Encoding[] = ['br', 'gzip'], signal?: AbortSignal): Promise<void> {
    // One job at a time: brotli 11 of converse.min.js holds a libuv thread for seconds. All at once they would take
    // the whole pool (4 threads) and stall file I/O at every start, the archive's fsync and so chat echoes included.
    const names = [this.urls.converseJs, this.urls.converseCss, this.urls.bootJs, this.urls.bootCss];
    for (const n of names) {
      const a = this.assets.get(n);
      if (!a) continue;
      for (const e of encodings) {
        if (signal?.aborted) return; // the server stopped: what is not compressed yet never will be
        const enc = a.compressible ? e : 'identity';
        if (await this.onDisk(a, enc)) continue;
        await this.body(a, enc);
      }
    }
  }

  /** Whether a large body is kept on disk already (complete, by its length; read() checks its hash). */
  private async onDisk(asset: Asset, enc: Encoding): Promise<boolean> {
    if (!this.disk || enc === 'identity' || !asset.file || this.bodies.has(`${enc}:${asset.name}`)) return false;
    const name = this.diskName(asset, enc, await this.fileSize(asset));
    return name !== undefined && this.disk.has(name);
  }

  private async readRaw(asset: Asset): Promise<Buffer> {
    if (asset.inline) return asset.inline;
    return readFile(asset.file!);
  }
}
