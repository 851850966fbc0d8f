// Atomic JSON documents: written to a temp file, fsynced, then renamed over the old one,
// so a crash leaves either the old or the new version on disk, never a torn file.
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

let tmpCounter = 0;

export async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${++tmpCounter}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(value, null, 1));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  // fsync the directory so the rename itself survives a power cut.
  try {
    const dh = await open(dirname(file), 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    /* some filesystems refuse directory fsync; the rename is still atomic */
  }
}

export async function removeJson(file: string): Promise<void> {
  await rm(file, { force: true });
}

/**
 * Serializes writes of one document: concurrent saves collapse into at most one pending write,
 * which always carries the latest value.
 */
export class JsonDocument<T> {
  private writing: Promise<void> | null = null;
  private pending: T | undefined;
  private hasPending = false;

  constructor(readonly file: string) {}

  read(): Promise<T | undefined> {
    return readJson<T>(this.file);
  }

  save(value: T): Promise<void> {
    this.pending = value;
    this.hasPending = true;
    if (!this.writing) this.writing = this.drain();
    return this.writing;
  }

  /** Resolves once everything saved so far is on disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.hasPending) {
        const v = this.pending as T;
        this.hasPending = false;
        await writeJson(this.file, v);
      }
    } finally {
      this.writing = null;
    }
  }
}
