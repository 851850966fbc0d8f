// Room names follow PeerTube: a video room is named after its video's title, a channel room after the channel's
// display name. The name is updated (with a 104 to occupants, the rest of the room's configuration untouched) when
// the video or the channel is edited, and re-checked whenever rooms are reviewed (start, settings change), so an
// edit made while the plugin was off is caught up.
import type { LivechatRuntime } from './runtime.js';
import { parseRoomLocalpart, type VideoLike } from './rooms.js';

type Hook = { target: string; handler: (...args: any[]) => unknown };

/** The name a room should carry now, or undefined when its video or channel is unknown. */
export async function expectedRoomName(r: LivechatRuntime, localpart: string): Promise<string | undefined> {
  const key = parseRoomLocalpart(localpart);
  if (!key) return undefined;
  if (key.kind === 'video') {
    const v = await r.loadVideo(key.uuid);
    return v?.name || undefined;
  }
  return (await r.channelInfos(key.id))?.displayName || undefined;
}

/** Renames a stored room when its video or channel name changed; true when it did. */
export async function syncRoomName(r: LivechatRuntime, localpart: string): Promise<boolean> {
  if (!r.server.muc.getRoom(localpart)) return false;
  const name = await expectedRoomName(r, localpart);
  return name !== undefined && r.server.muc.setRoomName(localpart, name);
}

export function roomNameHooks(rt: () => LivechatRuntime | null): Hook[] {
  return [
    {
      // The video form (lives too: their title is edited through the video update).
      target: 'action:api.video.updated',
      handler: async ({ video }: { video?: VideoLike }) => {
        const r = rt();
        if (!r || !video?.uuid || r.settings.roomType !== 'video') return;
        try {
          if (video.name) r.server.muc.setRoomName(video.uuid, video.name);
          else await syncRoomName(r, video.uuid);
        } catch (err) {
          r.log.warn(`livechat: cannot rename the room of ${video.uuid}: ${(err as Error)?.message ?? err}`);
        }
      },
    },
    {
      // A live starting or ending (PeerTube >= 5.2): a title changed meanwhile is caught up.
      target: 'action:live.video.state.updated',
      handler: async ({ video }: { video?: VideoLike }) => {
        const r = rt();
        if (!r || !video?.uuid || r.settings.roomType !== 'video') return;
        await syncRoomName(r, video.uuid).catch((err: unknown) =>
          r.log.warn(`livechat: room name of ${video.uuid}: ${String(err)}`),
        );
      },
    },
    {
      target: 'action:api.video-channel.updated',
      handler: async ({ videoChannel }: { videoChannel?: { id?: number; name?: string } }) => {
        const r = rt();
        if (!r || !videoChannel?.id || r.settings.roomType !== 'channel') return;
        try {
          await syncRoomName(r, `channel.${videoChannel.id}`);
        } catch (err) {
          r.log.warn(
            `livechat: cannot rename the room of channel ${videoChannel.id}: ${(err as Error)?.message ?? err}`,
          );
        }
      },
    },
  ];
}
