// Shared bits for the archive tests: temp folders and message factories.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchivedMessage, ArchiveQuery } from '../../src/storage/types.js';
import type { RoomArchive } from '../../src/storage/room-archive.js';

export async function tempDir(prefix = 'archive-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function msgXml(i: number, nick = `user${i % 5}`): string {
  return `<message xmlns="jabber:client" from="room@muc.test/${nick}" type="groupchat" id="m${i}"><body>message number ${i}</body></message>`;
}

/** Collects a whole result set by paging forward (or backward) with RSM cursors; returns pages too. */
export async function pageAll(
  ra: RoomArchive,
  q: Omit<ArchiveQuery, 'max'>,
  max: number,
  backward = false,
): Promise<{ items: ArchivedMessage[]; pages: number; completes: boolean[] }> {
  const items: ArchivedMessage[] = [];
  const completes: boolean[] = [];
  let cursor: string | undefined = backward ? '' : undefined;
  for (let pages = 1; pages < 10000; pages++) {
    const r = await ra.query({ ...q, max, ...(backward ? { before: cursor } : cursor ? { after: cursor } : {}) });
    completes.push(r.complete);
    if (backward) items.unshift(...r.items);
    else items.push(...r.items);
    if (r.complete || !r.items.length) return { items, pages, completes };
    cursor = backward ? r.first : r.last;
  }
  throw new Error('paging did not end');
}
