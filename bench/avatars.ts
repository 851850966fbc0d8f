// What an avatar costs: composing a new one from the rasterized parts (main thread, once per design) against the
// baseline of rendering the same design as one SVG with sharp (thread pool, what a naive generator would do), and
// a cached lookup. `node --import tsx bench/avatars.ts [--count N]`. Figures are per avatar.
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { AvatarService } from '../src/avatars/service.js';
import { validateAvatars } from '../src/avatars/config.js';
import { designFor } from '../src/avatars/compose.js';
import { PARTS, SETS, SET_NAMES } from '../src/avatars/art.js';
import { silentLogger } from '../src/log.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '2000' } } });
const count = Number(values.count);

function svgOf(set: string, seed: string): string {
  const d = designFor(SETS[set], seed);
  const layers = d.layers.map(
    (l) =>
      `<g fill="${l.color}" stroke="${l.color}" transform="translate(${l.dx} ${l.dy})">${PARTS[l.part].replace(/stroke="#000"/g, '')}</g>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="60" height="60"><rect width="60" height="60" fill="${d.background}"/>${layers.join('')}</svg>`;
}

console.log(`set        compose new (µs)  cached (µs)  mean bytes | sharp SVG→PNG (µs, 2 at a time)  mean bytes`);
for (const set of SET_NAMES) {
  const s = new AvatarService(validateAvatars({ set, cacheSize: count * 2 }), { log: silentLogger });
  await s.start();
  s.forSeed('warm-up');
  let bytes = 0;
  let t = performance.now();
  for (let i = 0; i < count; i++) bytes += s.forSeed(`${set} viewer ${i}`)!.png.length;
  const compose = ((performance.now() - t) / count) * 1000;
  t = performance.now();
  for (let i = 0; i < count; i++) s.forSeed(`${set} viewer ${i}`);
  const cached = ((performance.now() - t) / count) * 1000;

  const n = Math.min(count, 300);
  let sharpBytes = 0;
  t = performance.now();
  for (let i = 0; i < n; i += 2) {
    const out = await Promise.all(
      [i, i + 1].map((k) =>
        sharp(Buffer.from(svgOf(set, `${set} viewer ${k}`)))
          .png({ palette: true, compressionLevel: 9, effort: 10 })
          .toBuffer(),
      ),
    );
    for (const o of out) sharpBytes += o.length;
  }
  const viaSharp = ((performance.now() - t) / n) * 1000;
  console.log(
    `${set.padEnd(10)} ${compose.toFixed(0).padStart(16)}  ${cached.toFixed(2).padStart(11)}  ${(bytes / count).toFixed(0).padStart(10)} | ${viaSharp.toFixed(0).padStart(32)}  ${(sharpBytes / n).toFixed(0).padStart(10)}`,
  );
}
