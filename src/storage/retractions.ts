// A room's retractions (XEP-0424/0425 tombstones): seq → tombstone XML in memory, appended to retractions.log (one
// record each, fsynced unless fsync is "never"), read back at load, and rewritten without entries of pruned segments.
import { open, readFile, rename, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { HEADER, decodeRetraction, encodeRetraction, validRecordLength } from './record.js';
import { isENOENT } from './fs-util.js';
import type { ArchiveConfig } from './config.js';

export class RetractionLog {
  private map = new Map<number, string>();
  /** Writes in order, one at a time; a failure is logged and does not stop later writes. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly room: string,
    private readonly ctx: { config: ArchiveConfig; log: (level: 'info' | 'warn' | 'error', msg: string) => void },
    /** Creates the room's folder and metadata before the first write. */
    private readonly ensureDir: () => Promise<void>,
  ) {}

  private get file(): string {
    return join(this.dir, 'retractions.log');
  }

  get(seq: number): string | undefined {
    return this.map.get(seq);
  }

  /** Records a tombstone at once (readers see it) and resolves when it is on disk. */
  add(seq: number, xml: string): Promise<void> {
    this.map.set(seq, xml);
    const buf = encodeRetraction({ seq, xml });
    const p = this.chain.then(async () => {
      await this.ensureDir();
      const fh = await open(this.file, 'a', 0o600);
      try {
        let done = 0;
        while (done < buf.length) done += (await fh.write(buf, done, buf.length - done)).bytesWritten;
        if (this.ctx.config.fsync !== 'never') await fh.datasync();
      } finally {
        await fh.close();
      }
    });
    this.chain = p.catch((err) =>
      this.ctx.log('error', `archive ${this.room}: retraction not saved: ${(err as Error).message}`),
    );
    return p;
  }

  /** Waits for the writes queued so far. */
  async settled(): Promise<void> {
    await this.chain;
  }

  /** Reads retractions.log, keeping entries from `baseSeq` on and cutting a torn tail. */
  async load(baseSeq: number): Promise<void> {
    let buf: Buffer;
    try {
      buf = await readFile(this.file);
    } catch (err) {
      if (isENOENT(err)) return;
      throw err;
    }
    let off = 0;
    while (off < buf.length) {
      const len = validRecordLength(buf, off);
      if (len === 0 || buf[off + HEADER] !== 2) break;
      const r = decodeRetraction(buf, off);
      if (r.seq >= baseSeq) this.map.set(r.seq, r.xml);
      off += len;
    }
    if (off < buf.length) {
      this.ctx.log('warn', `archive ${this.room}: torn tail of ${buf.length - off} bytes in retractions.log; cut off`);
      await truncate(this.file, off);
    }
  }

  /** Drops entries below `baseSeq` (their segments were pruned) and rewrites the file if any went. */
  async compact(baseSeq: number): Promise<void> {
    let stale = false;
    for (const s of this.map.keys())
      if (s < baseSeq) {
        stale = true;
        this.map.delete(s);
      }
    if (!stale) return;
    await this.chain;
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      const parts = [...this.map].map(([seq, xml]) => encodeRetraction({ seq, xml }));
      if (parts.length) await fh.write(Buffer.concat(parts));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
  }
}
