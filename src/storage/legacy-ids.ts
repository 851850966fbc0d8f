// Archive ids kept from another server (an imported Prosody archive): clients hold those ids (MAM paging, replies,
// moderation, pins), so an imported message keeps its old id instead of one of ours. Our own ids resolve to their
// position by themselves; kept ones need this table, `legacy-ids.json` in the room's archive folder
// ({"<old id>": seq}), written once by the import and read when the room's archive is opened.
import { join } from 'node:path';
import { readJson, writeJson } from './json-document.js';

const FILE = 'legacy-ids.json';
/** Kept ids are stored as the record's id field (at most 255 latin1 bytes). */
const KEPT_ID = /^[\x21-\x7e]{1,255}$/;

export function isKeepableId(id: string): boolean {
  return KEPT_ID.test(id);
}

export class LegacyIds {
  private readonly map = new Map<string, number>();
  private dirty = false;

  static async load(dir: string): Promise<LegacyIds | undefined> {
    const data = await readJson<Record<string, unknown>>(join(dir, FILE));
    if (!data || typeof data !== 'object') return undefined;
    const ids = new LegacyIds();
    for (const [id, seq] of Object.entries(data))
      if (typeof seq === 'number' && Number.isSafeInteger(seq)) ids.map.set(id, seq);
    return ids;
  }

  get(id: string): number | undefined {
    return this.map.get(id);
  }

  add(id: string, seq: number): void {
    this.map.set(id, seq);
    this.dirty = true;
  }

  async save(dir: string): Promise<void> {
    if (!this.dirty) return;
    await writeJson(join(dir, FILE), Object.fromEntries(this.map));
    this.dirty = false;
  }
}
