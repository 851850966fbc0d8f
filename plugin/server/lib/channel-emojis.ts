// A channel's custom emojis as livechat stores them (emojis/channel/<id>/definition.json, { customEmojis: [{ sn, url }] }),
// reduced to the shortnames a room's emoji-only mode must accept. Images stay where livechat put them.
import { readChannelEmojis } from '../../../src/import/livechat/index.js';

const SHORTNAME = /^:?[\w-]+:?$/;

/** The channel's custom shortnames (e.g. ":peertube:"); none when it never defined any. */
export async function channelShortnames(pluginDataDir: string, channelId: number): Promise<string[]> {
  const found = await readChannelEmojis(pluginDataDir, channelId);
  const list = (found?.definition as { customEmojis?: unknown } | undefined)?.customEmojis;
  if (!Array.isArray(list)) return [];
  return list.flatMap((e: unknown) => {
    const sn = (e as { sn?: unknown } | null)?.sn;
    return typeof sn === 'string' && SHORTNAME.test(sn) ? [sn] : [];
  });
}
