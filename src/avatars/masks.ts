// The avatar parts' coverage masks, from the data made at build time by rasterize.ts (sharp is not loaded by the
// server for them). Inflating the few dozen 3.6 KB masks of one set takes about a millisecond.
import { inflateRawSync } from 'node:zlib';
import { SIZE } from './art.js';
import { MASKS } from './mask-data.js';

export function loadMasks(names: readonly string[]): Map<string, Uint8Array> {
  const masks = new Map<string, Uint8Array>();
  for (const name of names) {
    const entry = MASKS[name];
    if (!entry) throw new Error(`avatar part ${name} has no mask (run npm run avatars:masks)`);
    const mask = new Uint8Array(inflateRawSync(Buffer.from(entry[1], 'base64')));
    if (mask.length !== SIZE * SIZE) throw new Error(`avatar part ${name}: mask of ${mask.length} bytes`);
    masks.set(name, mask);
  }
  return masks;
}
