// Writes src/avatars/mask-data.ts, the avatar parts' coverage masks, from the SVG parts in src/avatars/art.ts.
// Run after changing a part: `npm run avatars:masks` (the avatar tests fail while the file is out of date).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { maskDataModule } from '../src/avatars/rasterize.ts';

const out = fileURLToPath(new URL('../src/avatars/mask-data.ts', import.meta.url));
writeFileSync(out, await maskDataModule());
console.log(`wrote ${out}`);
