// Pruning by whole segments: which leading segments are all expired or beyond the per-room cap, and removing
// their files. Messages in kept segments that are expired or over the cap are already invisible to readers.
import { rm, unlink } from 'node:fs/promises';
import { isENOENT } from './fs-util.js';
import { SegmentInfo, idxFile, segFile } from './segment.js';

/**
 * Removes from the front of `segments` (in place) the sealed segments whose messages are all older than `cutoff`
 * or beyond the newest `cap` (0 = no cap), and returns them. The active (last) segment is never taken here.
 */
export function takePrunableSegments(
  segments: SegmentInfo[],
  nextSeq: number,
  cutoff: number,
  cap: number,
): SegmentInfo[] {
  const dropped: SegmentInfo[] = [];
  while (segments.length > 1) {
    const s = segments[0];
    const gone = s.count === 0 || s.lastTs < cutoff || (cap > 0 && nextSeq - (s.firstSeq + s.count) >= cap);
    if (!gone) break;
    dropped.push(segments.shift()!);
  }
  return dropped;
}

/** Deletes the files of dropped segments; returns how many messages they held. */
export async function deleteSegmentFiles(dir: string, dropped: readonly SegmentInfo[]): Promise<number> {
  let messages = 0;
  for (const s of dropped) {
    messages += s.count;
    await rm(idxFile(dir, s.firstSeq), { force: true });
    await unlink(segFile(dir, s.firstSeq)).catch((err) => {
      if (!isENOENT(err)) throw err;
    });
  }
  return messages;
}
