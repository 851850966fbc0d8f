// The per-video "use chat" switch (`livechat-active`), stored like livechat stores it (livechat-active-<videoId>),
// saved from the video form and from live creation, and shown back in the video's pluginData.
import type { LivechatRuntime } from './runtime.js';
import { activeKey, isTrue } from './runtime.js';
import type { PeerTubeOptions } from './peertube.js';

type Hook = { target: string; handler: (...args: any[]) => unknown };

export function customFieldHooks(o: PeerTubeOptions, rt: () => LivechatRuntime | null): Hook[] {
  const store = (videoId: number, value: boolean) => o.storageManager.storeData(activeKey(videoId), value);
  return [
    {
      // The live creation form (and PeerTube's mobile app, which never updates the video afterwards).
      target: 'action:api.live-video.created',
      handler: async ({
        video,
        req,
      }: {
        video?: { id?: number };
        req?: { body?: { pluginData?: Record<string, unknown> } };
      }) => {
        const r = rt();
        if (!r || !video?.id) return;
        if (!isTrue(req?.body?.pluginData?.['livechat-active']) || !r.settings.perLiveVideo) return;
        await store(video.id, true);
        const full = await r.loadVideo(video.id);
        if (full) await r.videoChatChanged(full);
      },
    },
    {
      target: 'action:api.video.updated',
      handler: async ({
        video,
        body,
      }: {
        video?: { id?: number; uuid?: string };
        body?: { pluginData?: Record<string, unknown> };
      }) => {
        const r = rt();
        if (!r || !video?.id || !body?.pluginData || !('livechat-active' in body.pluginData)) return;
        const v = body.pluginData['livechat-active'];
        const on = isTrue(v);
        if (!on && v !== false && v !== 'false' && v !== 'null' && v !== null) return;
        await store(video.id, on);
        const full = await r.loadVideo(video.id);
        if (full) await r.videoChatChanged(full);
      },
    },
    {
      target: 'action:api.video.deleted',
      handler: ({ video }: { video?: { id?: number; uuid?: string } }) => {
        const r = rt();
        if (r && video?.uuid && video.id) r.destroyRoomOf({ id: video.id, uuid: video.uuid });
      },
    },
    {
      target: 'filter:api.video.get.result',
      handler: async (video: { id?: number; isLive?: boolean; pluginData?: Record<string, unknown> } | undefined) => {
        const r = rt();
        if (!r || !video?.id) return video;
        video.pluginData ??= {};
        if (video.isLive) video.pluginData['livechat-active'] = await r.isChatActive(video.id);
        return video;
      },
    },
  ];
}
