// A channel's custom emojis, kept where and as livechat keeps them (emojis/channel/<id>/definition.json with
// { customEmojis: [{ sn, url, isCategoryEmoji? }] }, images in emojis/channel/<id>/files/<digits>.<ext>), with
// livechat's limits: at most 200 emojis, shortnames like ":name:" (letters, digits, _ and -), images PNG, JPEG or
// GIF of at most 30 KiB. A new image comes as a data: URL and is stored under a new file name; a kept one comes as
// its public URL, which must be exactly the URL this channel serves it under.
import { mkdir, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';

export const MAX_EMOJIS = 200;
export const MAX_IMAGE_BYTES = 30 * 1024;
const EXTENSIONS = ['png', 'jpg', 'jpeg', 'gif'];
const SHORTNAME = /^:?[\w-]+:?$/;
const FILE_NAME = /^\d+\.([a-z]+)$/;
const DATA_URL = /^data:image\/([a-z]+);base64,/;

export interface CustomEmoji {
  sn: string;
  url: string;
  isCategoryEmoji?: true;
}
export interface ChannelEmojis {
  customEmojis: CustomEmoji[];
}
interface NewFile {
  name: string;
  data: Buffer;
}

/** A refused definition; the message names the entry and field, for the 400 answer. */
export class EmojiDefinitionError extends Error {}

export function channelEmojisDir(pluginDataDir: string, channelId: number): string {
  return join(pluginDataDir, 'emojis', 'channel', String(channelId));
}

export function isEmojiFileName(name: string): boolean {
  const m = FILE_NAME.exec(name);
  return !!m && EXTENSIONS.includes(m[1]);
}

/** Checks a submitted definition; new images are decoded and given file names under `filesBaseUrl`. */
export function sanitizeEmojis(body: unknown, filesBaseUrl: string): { definition: ChannelEmojis; files: NewFile[] } {
  const fail = (m: string): never => {
    throw new EmojiDefinitionError(m);
  };
  if (!body || typeof body !== 'object' || Array.isArray(body))
    fail('the body must be an object { customEmojis: [...] }');
  const raw = (body as { customEmojis?: unknown }).customEmojis;
  if (!Array.isArray(raw)) fail('customEmojis must be a list');
  const list = raw as unknown[];
  if (list.length > MAX_EMOJIS) fail(`customEmojis: at most ${MAX_EMOJIS} emojis, got ${list.length}`);
  const out: CustomEmoji[] = [];
  const files: NewFile[] = [];
  const seen = new Set<string>();
  // Digits only (livechat's file names); never reused, so the images can be cached as immutable.
  const stamp = `${Date.now()}${String(randomInt(1000)).padStart(3, '0')}`;
  let category = false;
  list.forEach((e: unknown, i: number) => {
    const at = `customEmojis[${i}]`;
    if (!e || typeof e !== 'object') fail(`${at}: must be an object { sn, url }`);
    const { sn, url, isCategoryEmoji } = e as { sn?: unknown; url?: unknown; isCategoryEmoji?: unknown };
    if (typeof sn !== 'string' || !SHORTNAME.test(sn))
      fail(`${at}.sn: a short name like ":name:" (letters, digits, _ and -), got ${JSON.stringify(sn)}`);
    const key = (sn as string).replace(/^:|:$/g, '').toLowerCase();
    if (seen.has(key)) fail(`${at}.sn: ${sn} is used twice`);
    seen.add(key);
    if (typeof url !== 'string') fail(`${at}.url: required`);
    let publicUrl = url as string;
    const data = DATA_URL.exec(publicUrl);
    if (data) {
      if (!EXTENSIONS.includes(data[1])) fail(`${at}.url: image type ${data[1]} not allowed (png, jpg, gif)`);
      const bytes = Buffer.from(publicUrl.slice(data[0].length), 'base64');
      if (bytes.length === 0) fail(`${at}.url: empty image`);
      if (bytes.length > MAX_IMAGE_BYTES) fail(`${at}.url: image of ${bytes.length} bytes, at most ${MAX_IMAGE_BYTES}`);
      const name = `${stamp}${String(i + 1).padStart(3, '0')}.${data[1]}`;
      files.push({ name, data: bytes });
      publicUrl = filesBaseUrl + name;
    } else {
      const name = publicUrl.startsWith(filesBaseUrl) ? publicUrl.slice(filesBaseUrl.length) : '';
      if (!isEmojiFileName(name))
        fail(`${at}.url: a data:image URL or this channel's file URL (${filesBaseUrl}<file>)`);
    }
    const entry: CustomEmoji = { sn: sn as string, url: publicUrl };
    if (isCategoryEmoji === true && !category) {
      entry.isCategoryEmoji = true;
      category = true;
    }
    out.push(entry);
  });
  return { definition: { customEmojis: out }, files };
}

/** Writes the new images, then the definition (atomically), then removes the images no longer used. */
export async function saveEmojis(
  pluginDataDir: string,
  channelId: number,
  definition: ChannelEmojis,
  files: NewFile[],
): Promise<void> {
  const dir = channelEmojisDir(pluginDataDir, channelId);
  const filesDir = join(dir, 'files');
  await mkdir(filesDir, { recursive: true });
  for (const f of files) await writeFile(join(filesDir, f.name), f.data);
  const tmp = join(dir, `definition.json.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(definition));
  await rename(tmp, join(dir, 'definition.json'));
  const used = new Set(definition.customEmojis.map((e) => e.url.split('/').pop()));
  for (const name of await readdir(filesDir)) {
    if (!used.has(name)) await unlink(join(filesDir, name)).catch(() => undefined);
  }
}
