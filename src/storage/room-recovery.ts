// Opening a room's archive folder after a clean stop or a crash: the id salt from meta.json, the segments in order
// (sidecar indexes read, or rebuilt from the data when sealing was interrupted), torn tails and leftover temporary
// files cut away, and the last records of the active segment to warm the hot tail.
import { readdir, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { readJson } from './json-document.js';
import type { StoredRecord } from './record.js';
import { SegmentInfo, idxFile, parseSegName, readSidecar, scanSegment, segFile, writeSidecar } from './segment.js';
import { isENOENT } from './fs-util.js';
import type { ArchiveConfig } from './config.js';

export interface RecoveredRoom {
  /** The room's id salt, when meta.json was there. */
  salt?: Buffer;
  /** Sealed segments with messages, then the active one (possibly empty). */
  segments: SegmentInfo[];
  /** The active segment's last records (up to config.hotTail). */
  warm: StoredRecord[];
}

export async function recoverRoomFiles(
  dir: string,
  room: string,
  ctx: { config: ArchiveConfig; log: (level: 'info' | 'warn' | 'error', msg: string) => void },
): Promise<RecoveredRoom> {
  const meta = await readJson<{ salt?: string }>(join(dir, 'meta.json'));
  const salt = meta?.salt ? Buffer.from(meta.salt, 'base64') : undefined;
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (!isENOENT(err)) throw err;
  }
  const segs: number[] = [];
  const idx = new Set<number>();
  for (const n of names) {
    const p = parseSegName(n);
    if (p?.kind === 'seg') segs.push(p.firstSeq);
    else if (p?.kind === 'idx') idx.add(p.firstSeq);
    else if (n.endsWith('.tmp')) await rm(join(dir, n), { force: true });
  }
  segs.sort((a, b) => a - b);
  if (segs.length && !salt)
    ctx.log('warn', `archive ${room}: meta.json missing, earlier ids can no longer be resolved`);
  // Sidecars left behind by an interrupted prune.
  for (const s of idx) if (!segs.includes(s)) await rm(idxFile(dir, s), { force: true });

  const sealed = segs.slice(0, -1);
  const infos = new Array<SegmentInfo>(sealed.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < sealed.length) {
      const i = next++;
      const first = sealed[i];
      let info = idx.has(first) ? await readSidecar(dir, first) : undefined;
      if (!info) {
        // Sealed but no usable index (crash while sealing): rebuild it from the data.
        const scan = await scanSegment(segFile(dir, first), first, 0);
        if (scan.fileBytes > scan.info.bytes) {
          ctx.log(
            'warn',
            `archive ${room}: segment ${first} has ${scan.fileBytes - scan.info.bytes} bad bytes at its end; cut off`,
          );
          await truncate(segFile(dir, first), scan.info.bytes);
        }
        info = scan.info;
        if (info.count > 0) await writeSidecar(dir, info);
      }
      infos[i] = info;
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, sealed.length) }, worker));
  const segments = infos.filter((s) => s.count > 0);

  let warm: StoredRecord[] = [];
  if (segs.length) {
    const first = segs[segs.length - 1];
    const file = segFile(dir, first);
    const scan = await scanSegment(file, first, ctx.config.hotTail);
    if (scan.fileBytes > scan.info.bytes) {
      ctx.log(
        'warn',
        `archive ${room}: torn tail of ${scan.fileBytes - scan.info.bytes} bytes in segment ${first}; cut off`,
      );
      await truncate(file, scan.info.bytes);
    }
    // An index next to the active segment is stale (sealing was interrupted): it is rewritten when sealed.
    if (idx.has(first)) await rm(idxFile(dir, first), { force: true });
    segments.push(scan.info);
    warm = scan.last;
  }
  return { salt, segments, warm };
}
