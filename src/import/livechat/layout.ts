// Readers for the files peertube-plugin-livechat keeps in its plugin data folder besides Prosody's, so the plugin
// takes them over where they are (same package name, same data folder):
//   room-channel/<room.host>.json               {"<channelId>": ["<room JID>", …]}: which rooms belong to a channel
//   channelConfigurationOptions/<channelId>.json a channel's chat options (bot, slow mode, forbidden words…), as is
//   emojis/channel/<channelId>/definition.json  a channel's custom emojis; image files in …/files/
//   tokens/<jid>.json                           long-term tokens (OBS docks): {userId, tokens: [{id, date, label,
//                                               encryptedPassword: "<iv hex>:<aes-256-cbc hex>"}]}, the key being
//                                               PeerTube's stored `livechat-prosody-auth-secretkey`
import { createDecipheriv } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

async function readJsonFile(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function channelIdOk(id: number | string): string {
  const s = String(id);
  if (!/^\d+$/.test(s)) throw new Error(`invalid channel id '${s}'`);
  return s;
}

/** Channel id → room JIDs from `room-channel/<mucDomain>.json`; entries of the wrong shape are dropped. */
export async function readRoomChannels(pluginDataDir: string, mucDomain: string): Promise<Map<number, string[]>> {
  if (mucDomain.includes('/') || mucDomain.startsWith('.')) throw new Error(`invalid MUC domain '${mucDomain}'`);
  const data = await readJsonFile(join(pluginDataDir, 'room-channel', `${mucDomain}.json`));
  const out = new Map<number, string[]>();
  if (typeof data !== 'object' || data === null) return out;
  for (const [k, v] of Object.entries(data)) {
    if (!/^\d+$/.test(k) || !Array.isArray(v)) continue;
    out.set(
      Number(k),
      v.filter((j): j is string => typeof j === 'string'),
    );
  }
  return out;
}

/** A channel's stored chat options, as livechat wrote them (undefined when the channel never saved any). */
export function readChannelOptions(pluginDataDir: string, channelId: number | string): Promise<unknown> {
  return readJsonFile(join(pluginDataDir, 'channelConfigurationOptions', `${channelIdOk(channelId)}.json`));
}

/** A channel's custom emojis definition and the folder of its image files. */
export async function readChannelEmojis(
  pluginDataDir: string,
  channelId: number | string,
): Promise<{ definition: unknown; filesDir: string } | undefined> {
  const dir = join(pluginDataDir, 'emojis', 'channel', channelIdOk(channelId));
  const definition = await readJsonFile(join(dir, 'definition.json'));
  return definition === undefined ? undefined : { definition, filesDir: join(dir, 'files') };
}

export interface LivechatToken {
  id: number;
  date: number;
  label: string;
  password: string;
}

/** The long-term tokens of a JID, passwords decrypted with livechat's secret key; undefined when it has none. */
export async function readLivechatTokens(
  pluginDataDir: string,
  jid: string,
  secretKey: string,
): Promise<{ userId: number; tokens: LivechatToken[] } | undefined> {
  if (jid === '.' || jid === '..' || jid.includes('/') || jid.includes('\\')) throw new Error(`invalid JID '${jid}'`);
  const data = (await readJsonFile(join(pluginDataDir, 'tokens', `${jid}.json`))) as
    { userId?: unknown; tokens?: Array<Record<string, unknown>> } | undefined;
  if (data === undefined) return undefined;
  if (typeof data.userId !== 'number' || !Array.isArray(data.tokens)) throw new Error(`invalid token file for ${jid}`);
  const tokens = data.tokens.map((t) => {
    const [iv, enc] = String(t.encryptedPassword ?? '').split(':');
    const d = createDecipheriv('aes-256-cbc', secretKey, Buffer.from(iv, 'hex'));
    const password = d.update(enc ?? '', 'hex', 'utf8') + d.final('utf8');
    return { id: Number(t.id), date: Number(t.date), label: String(t.label ?? ''), password };
  });
  return { userId: data.userId, tokens };
}
