// Persistent rooms on disk: one atomic JSON document per room in <dataDir>/muc/, holding config, affiliations,
// subject and the occupant-id salt. Writes are coalesced per room by JsonDocument and never block the loop.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonDocument, readJson, removeJson } from '../storage/json-document.js';
import type { Logger } from '../log.js';
import type { AffiliationEntry, RoomConfig } from './types.js';
import type { Subject } from './room.js';

export interface StoredRoom {
  version: 1;
  localpart: string;
  config: RoomConfig;
  affiliations: Record<string, AffiliationEntry>;
  subject: Subject;
  occupantIdSalt: string;
  /** Feature state (Room.data); absent in files written before it existed. */
  data?: Record<string, unknown>;
}

/** File name for a room: the localpart, percent-encoded so any JID local part is a safe single path segment. */
export function roomFileName(localpart: string): string {
  return encodeURIComponent(localpart).replace(/\./g, '%2E').replace(/\*/g, '%2A') + '.json';
}

export class RoomStore {
  private docs = new Map<string, JsonDocument<StoredRoom>>();
  private pending = new Set<Promise<unknown>>();
  constructor(
    readonly dir: string,
    private log: Logger,
  ) {}

  async loadAll(): Promise<StoredRoom[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: StoredRoom[] = [];
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      try {
        const r = await readJson<StoredRoom>(join(this.dir, n));
        if (r && r.version === 1 && typeof r.localpart === 'string') out.push(r);
      } catch (err) {
        this.log.error(`muc: skipping unreadable room file ${n}: ${(err as Error).message}`);
      }
    }
    return out;
  }

  save(room: StoredRoom): void {
    let doc = this.docs.get(room.localpart);
    if (!doc)
      this.docs.set(room.localpart, (doc = new JsonDocument<StoredRoom>(join(this.dir, roomFileName(room.localpart)))));
    this.track(doc.save(room));
  }

  remove(localpart: string): void {
    const doc = this.docs.get(localpart);
    this.docs.delete(localpart);
    const file = join(this.dir, roomFileName(localpart));
    // Wait for an in-flight write so the delete is not overtaken by it.
    this.track((doc ? doc.flush() : Promise.resolve()).then(() => removeJson(file)));
  }

  /** Resolves once everything saved or removed so far is on disk. */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private track(p: Promise<unknown>): void {
    const q = p
      .catch((err) => this.log.error(`muc: room storage failed: ${(err as Error).message}`))
      .finally(() => this.pending.delete(q));
    this.pending.add(q);
  }
}
