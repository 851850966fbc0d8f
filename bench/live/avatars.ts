// Avatars for Prosody's vCards: random ones of about 4 KB each, like the set livechat hands out to anonymous
// viewers (seeded, so every run serves the same bytes), or this server's own computed avatars, so both targets can
// ship the same bytes.
import sharp from 'sharp';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AvatarService } from '../../src/avatars/service.js';
import { validateAvatars } from '../../src/avatars/config.js';
import { silentLogger } from '../../src/log.js';

/** Writes `count` PNG files (avatar-N.png) into dir and returns their names. */
export async function writeAvatars(dir: string, count = 10): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  let seed = 0x2545f491;
  const rnd = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) & 0xff;
  };
  const names: string[] = [];
  const side = 36; // 36×36 RGB noise barely compresses: ~4 KB of PNG
  for (let n = 1; n <= count; n++) {
    const raw = Buffer.alloc(side * side * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = rnd();
    const png = await sharp(raw, { raw: { width: side, height: side, channels: 3 } })
      .png()
      .toBuffer();
    const name = `avatar-${n}.png`;
    await writeFile(join(dir, name), png);
    names.push(name);
  }
  return names;
}

/** Writes `count` of this server's computed avatars (default set, as `npm start` hands out) into dir. */
export async function writeComputedAvatars(dir: string, count = 10): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const service = new AvatarService(validateAvatars({}), { log: silentLogger });
  await service.start();
  const names: string[] = [];
  for (let n = 1; n <= count; n++) {
    const name = `avatar-${n}.png`;
    await writeFile(join(dir, name), service.forSeed(`Anonymous ${n}`)!.png);
    names.push(name);
  }
  return names;
}
