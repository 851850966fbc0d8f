// The web chat's large compressed bodies kept on disk (<data>/cache/webchat): brotli 11 and gzip 9 of
// converse.min.js and its CSS take ~3.5 s of a core and a child process (whose spawn stalls the main thread for
// ~30 ms) at every start, for files that only change with the installed ConverseJS. A file's name says what it holds
// (the asset's ETag, the encoding, the compression settings), so a new ConverseJS or new settings never reuse an old
// file. Each file starts with a header giving the body's length and SHA-256: a torn or damaged file is a miss
// (compressed again and rewritten), never served. No fsync: a file a crash loses is only compressed again.
import { mkdir, open, readdir, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { digest } from '../digest.js';
import { compressOptions, type Encoding } from './encoding.js';

/** Where a server keeps them, below its data folder. */
export function webchatCacheDir(dataDir: string): string {
  return join(dataDir, 'cache', 'webchat');
}

type Compressed = Exclude<Encoding, 'identity'>;

/** Bumped when the file layout changes, so older files are pruned rather than misread. */
const FORMAT = 'xwb1';
/** `<FORMAT> <body length> <SHA-256 of the body, base64url>\n`: well under this many bytes. */
const MAX_HEADER = 96;
const HEADER = new RegExp(`^${FORMAT} (\\d{1,10}) ([A-Za-z0-9_-]{43})$`);
/** An ETag's content (base64url, see AssetStore.load) is what a file name can carry as it is. */
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const ENCODINGS: readonly Compressed[] = ['br', 'gzip'];

/** What the compression depends on besides the content: the level and parameters the child is given. */
function settingsOf(size: number, enc: Compressed): string {
  const settings = `${FORMAT}\n${enc}\n${JSON.stringify(compressOptions(size, enc, 'max'))}`;
  return digest('sha256', settings, 'base64url').slice(0, 10);
}

let tmpCounter = 0;

export class BodyCache {
  /** Reads and writes wait for the start's pruning: it deletes what it does not recognize, temp files included. */
  private pruned: Promise<void> = Promise.resolve();
  private warned = false;

  /** `warn` is told of the first failure to use the folder only: the bodies are still served, compressed again. */
  constructor(
    readonly dir: string,
    private readonly warn: (why: string) => void = () => {},
  ) {}

  /** What names an asset's files: its ETag without the quotes, or undefined if that cannot be part of a file name. */
  static idOf(etag: string): string | undefined {
    const id = etag.replace(/^"|"$/g, '');
    return ID.test(id) ? id : undefined;
  }

  /** The file name of an asset's body, or undefined if that asset is not kept. */
  static fileName(etag: string, enc: Compressed, size: number): string | undefined {
    const id = BodyCache.idOf(etag);
    return id === undefined ? undefined : `${id}.${enc}.${settingsOf(size, enc)}`;
  }

  /**
   * Deletes every file that is not a body of a current asset (an older ConverseJS, older settings, a temp file left
   * by a crash): the folder holds at most the current large assets' bodies. `sizeOf` gives a current asset's size by
   * its ETag content, or undefined if its bodies are not to be kept. Folders in it are left alone (never made here).
   */
  prune(sizeOf: (id: string) => Promise<number | undefined> | undefined): Promise<void> {
    // Not reported: a folder that cannot be listed cannot be written either, and the first write says so (once the
    // server listens to these warnings; this runs while the assets are loaded).
    this.pruned = this.prunePass(sizeOf).catch(() => {});
    return this.pruned;
  }

  private async prunePass(sizeOf: (id: string) => Promise<number | undefined> | undefined): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if (missing(e)) return; // nothing kept yet
      throw e;
    }
    for (const name of names) {
      const [id, enc] = name.split('.');
      const size = id && ENCODINGS.includes(enc as Compressed) ? await sizeOf(id)?.catch(() => undefined) : undefined;
      const current = size !== undefined && name === BodyCache.fileName(id!, enc as Compressed, size);
      if (!current) await rm(join(this.dir, name), { force: true }).catch(() => {}); // a folder: not ours
    }
  }

  /** The kept body, or undefined when there is none or it is incomplete or damaged. */
  async read(name: string): Promise<Buffer | undefined> {
    await this.pruned;
    let file: Buffer;
    try {
      file = await readFile(join(this.dir, name));
    } catch (e) {
      if (!missing(e)) this.failed('read', e);
      return undefined;
    }
    const header = parseHeader(file);
    if (!header || file.length !== header.bytes + header.length) return undefined;
    // A view, not a copy: the file's buffer is the body kept in memory (no second 300 KB allocation freed at once).
    const body = file.subarray(header.bytes);
    // ~0.3 ms for converse.min.js's gzip body, once per start and encoding.
    return digest('sha256', body, 'base64url') === header.sha256 ? body : undefined;
  }

  /** Whether a complete file is there (its length as its header says), without reading the body. */
  async has(name: string): Promise<boolean> {
    await this.pruned;
    let fh: FileHandle;
    try {
      fh = await open(join(this.dir, name), 'r');
    } catch {
      return false;
    }
    try {
      const head = Buffer.alloc(MAX_HEADER);
      const { bytesRead } = await fh.read(head, 0, MAX_HEADER, 0);
      const header = parseHeader(head.subarray(0, bytesRead));
      return !!header && (await fh.stat()).size === header.bytes + header.length;
    } catch {
      return false;
    } finally {
      await fh.close().catch(() => {});
    }
  }

  /** Keeps a body: written beside its place, then renamed over it, so a reader sees a whole file or none. */
  async write(name: string, body: Buffer): Promise<void> {
    await this.pruned;
    const file = join(this.dir, name);
    const tmp = `${file}.${process.pid}.${++tmpCounter}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true });
      const header = Buffer.from(`${FORMAT} ${body.length} ${digest('sha256', body, 'base64url')}\n`, 'latin1');
      await writeFile(tmp, [header, body]);
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      this.failed('write', e);
    }
  }

  private failed(what: string, e: unknown): void {
    if (this.warned) return;
    this.warned = true;
    const why = (e as Error)?.message ?? String(e);
    this.warn(`cannot ${what} compressed bodies in ${this.dir} (${why}); they are compressed again at every start`);
  }
}

/** No such file: nothing was kept there (ENOTDIR: a file stands where a folder on the way should be). */
function missing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function parseHeader(file: Buffer): { bytes: number; length: number; sha256: string } | undefined {
  const end = file.subarray(0, MAX_HEADER).indexOf(0x0a);
  if (end < 0) return undefined;
  const m = HEADER.exec(file.toString('latin1', 0, end));
  if (!m) return undefined;
  return { bytes: end + 1, length: Number(m[1]), sha256: m[2]! };
}
