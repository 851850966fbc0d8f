// What livechat stores per channel that the channel's rooms apply: the custom emojis
// (emojis/channel/<id>/definition.json, { customEmojis: [{ sn, url }] }), reduced to the shortnames emoji-only mode
// must accept (images stay where livechat put them), and the channel's terms (channelConfigurationOptions/<id>.json).
import { readChannelEmojis, readChannelOptions } from '../../../src/index.js';

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

/** The channel's own terms ('' when the streamer cleared them), or undefined when its options never had any. */
export async function channelTerms(pluginDataDir: string, channelId: number): Promise<string | undefined> {
  const terms = ((await readChannelOptions(pluginDataDir, channelId)) as { terms?: unknown } | undefined)?.terms;
  return typeof terms === 'string' ? terms : undefined;
}
