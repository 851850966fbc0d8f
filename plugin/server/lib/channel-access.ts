// Who may configure a channel's chat, for every channel configuration route: the channel's owner and the instance's
// administrators and moderators, while "disable-channel-configuration" is off. The routes answer the refusal each in
// their own way (livechat's API with bare statuses, the editor routes with a message).
import type { LivechatRuntime } from './runtime.js';
import type { ChannelInfos } from './channel-infos.js';

interface AuthUser {
  role?: number;
  blocked?: boolean;
  Account?: { id?: number };
}

export type ChannelAccess = { channel: ChannelInfos } | { status: 400 | 403 | 404; message: string };

export async function channelAccess(r: LivechatRuntime, req: any, res: any): Promise<ChannelAccess> {
  if (r.settings.disableChannelConfiguration)
    return { status: 403, message: 'channel configuration is disabled on this instance' };
  const raw = String(req.params?.channelId ?? '');
  if (!/^\d{1,10}$/.test(raw)) return { status: 400, message: 'the channel id must be a number' };
  const channel = await r.channelInfos(Number(raw));
  if (!channel) return { status: 404, message: 'no such local channel' };
  const user = (await r.authUser(res)) as AuthUser | undefined;
  if (!user || user.blocked) return { status: 403, message: 'log in as the channel owner or an instance moderator' };
  const owner = user.Account?.id !== undefined && user.Account.id === channel.ownerAccountId;
  if (!owner && user.role !== 0 && user.role !== 1)
    return { status: 403, message: 'only the channel owner and instance moderators may configure it' };
  return { channel };
}
