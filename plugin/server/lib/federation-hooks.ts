// ActivityPub and podcast feed hooks, wired to the pure builders in ../federation/: the FEP-1970 attachment and
// `peertubeLiveChat` on local videos with a chat, the JSON-LD term, `<podcast:chat>` on live items, and the chat
// infos of remote videos stored in livechat's layout (videoInfos/, serverInfos/).
import {
  addChatJsonLdContext,
  addChatToVideoJsonLd,
  addPodcastChatTag,
  readIncomingVideo,
  storeVideoChatInfos,
  type PodcastCustomTag,
  type VideoJsonLd,
} from '../federation/index.js';
import type { PeerTubeOptions } from './peertube.js';
import type { LivechatRuntime } from './runtime.js';
import { isLocalVideo, roomLocalpart, type VideoLike } from './rooms.js';
import { localChatServer } from './local-chat-server.js';

type Hook = { target: string; handler: (...args: any[]) => unknown };

/** The room JID of a local video that has a chat now, or false. */
async function roomOf(r: LivechatRuntime, v: VideoLike): Promise<string | false> {
  if (!isLocalVideo(v) || !(await r.videoHasChat(v))) return false;
  return `${roomLocalpart(v, r.settings)}@room.${r.place.host}`;
}

export function federationHooks(o: PeerTubeOptions, rt: () => LivechatRuntime | null): Hook[] {
  const url = () => o.peertubeHelpers.config.getWebserverUrl();
  const dataDir = () => o.peertubeHelpers.plugin.getDataDirectoryPath();
  const remoteRef = (video: { uuid: string; url: string }) => ({ uuid: video.uuid, url: video.url, remote: true });
  return [
    {
      target: 'filter:activity-pub.video.json-ld.build.result',
      handler: async (jsonld: VideoJsonLd, params: { video?: VideoLike & { url?: string } }) => {
        const r = rt();
        const video = params?.video;
        if (!r || !video?.uuid || !jsonld) return jsonld;
        const remote = !isLocalVideo(video);
        const roomJid = remote ? false : await roomOf(r, video);
        const out = addChatToVideoJsonLd(jsonld, {
          video: { uuid: video.uuid, remote, name: video.name ?? '' },
          roomJid,
          server: localChatServer(r.settings, url()),
        });
        if (out.store !== undefined) {
          await storeVideoChatInfos(
            dataDir(),
            { uuid: video.uuid, url: video.url ?? '', remote: false },
            out.store,
          ).catch((e: unknown) => r.log.warn(`livechat: cannot store chat infos of ${video.uuid}: ${String(e)}`));
        }
        return out.jsonld;
      },
    },
    {
      // PeerTube passes its shared context array: a new array is returned, the original is left as it is.
      target: 'filter:activity-pub.activity.context.build.result',
      handler: (context: unknown[]) => (Array.isArray(context) ? addChatJsonLdContext(context) : context),
    },
    {
      target: 'filter:feed.podcast.video.create-custom-tags.result',
      handler: async (tags: PodcastCustomTag[], params: { video?: VideoLike; liveItem?: boolean }) => {
        const r = rt();
        const video = params?.video;
        if (!r || !video?.uuid || !Array.isArray(tags)) return tags;
        return addPodcastChatTag(tags, {
          liveItem: !!params.liveItem,
          videoUuid: video.uuid,
          roomJid: await roomOf(r, video),
          server: localChatServer(r.settings, url()),
        });
      },
    },
    ...['action:activity-pub.remote-video.created', 'action:activity-pub.remote-video.updated'].map((target) => ({
      target,
      handler: async (params: { video?: { uuid: string; url: string }; videoAPObject?: unknown }) => {
        const r = rt();
        if (!r || !params?.video?.uuid || !params.video.url) return;
        await readIncomingVideo(dataDir(), {
          video: remoteRef(params.video),
          videoAPObject: params.videoAPObject,
        }).catch((e: unknown) => r.log.warn(`livechat: cannot store remote chat infos: ${String(e)}`));
      },
    })),
  ];
}
