// Rasterizing the SVG parts into coverage masks with sharp (librsvg in libuv's thread pool, never on the event
// loop). Done once per part: a set has a few dozen parts, avatars are then composed from them in memory.
import sharp from 'sharp';
import { SIZE, partSvg } from './art.js';
import type { Limiter } from './limit.js';

export async function rasterizeParts(names: readonly string[], limiter: Limiter): Promise<Map<string, Uint8Array>> {
  const masks = new Map<string, Uint8Array>();
  await Promise.all(
    names.map((name) =>
      limiter.run(async () => {
        const { data, info } = await sharp(Buffer.from(partSvg(name)), { density: 72 })
          .resize(SIZE, SIZE, { fit: 'fill' })
          .ensureAlpha()
          .extractChannel(3)
          .raw()
          .toBuffer({ resolveWithObject: true });
        if (info.width !== SIZE || info.height !== SIZE || data.length !== SIZE * SIZE) {
          throw new Error(`avatar part ${name} rasterized to ${info.width}×${info.height}×${info.channels}`);
        }
        masks.set(name, new Uint8Array(data));
      }),
    ),
  );
  return masks;
}
