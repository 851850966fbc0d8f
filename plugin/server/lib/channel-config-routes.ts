// livechat's channel configuration API, same path, JSON and permissions, so its front-end's channel page works:
//   GET  api/configuration/channel/:channelId  → { channel: {id, name, displayName, ownerAccountId}, configuration }
//   POST api/configuration/channel/:channelId  (the options) → the same, as stored
// For the channel's owner and instance administrators and moderators only (403 otherwise, 404 for an unknown or
// remote channel, 400 for a bad id or options); 403 for everyone when "disable-channel-configuration" is ticked.
import type { LivechatRuntime } from './runtime.js';
import { json, route, type RouterLike } from './routes.js';
import type { ChannelInfos } from './channel-infos.js';
import { channelAccess } from './channel-access.js';
import {
  ChannelOptionsError,
  defaultChannelOptions,
  sanitizeChannelOptions,
  storeChannelOptionsFile,
} from './channel-options.js';

/** The channel when the request's user may configure it; otherwise the answer is sent and null returned. */
async function allowedChannel(r: LivechatRuntime, req: any, res: any): Promise<ChannelInfos | null> {
  const a = await channelAccess(r, req, res);
  if ('channel' in a) return a.channel;
  res.sendStatus(a.status);
  return null;
}

export function mountChannelConfigRoutes(router: RouterLike, rt: () => LivechatRuntime | null): void {
  router.get(
    '/api/configuration/channel/:channelId',
    route(rt, async (r, req, res) => {
      const channel = await allowedChannel(r, req, res);
      if (!channel) return;
      const configuration = (await r.channels.options(channel.id)) ?? defaultChannelOptions();
      json(res, 200, { channel, configuration });
    }),
  );

  router.post(
    '/api/configuration/channel/:channelId',
    route(rt, async (r, req, res) => {
      const channel = await allowedChannel(r, req, res);
      if (!channel) return;
      const body = req.body && typeof req.body === 'object' ? { ...req.body } : req.body;
      // A switched-off bot keeps its hidden settings as they were (livechat does not save the hidden form fields).
      if (body?.bot?.enabled === false) {
        const before = (await r.channels.options(channel.id)) ?? defaultChannelOptions();
        body.bot = { ...before.bot, enabled: false };
      }
      let configuration;
      try {
        configuration = sanitizeChannelOptions(body, await r.channels.usersRegexp());
      } catch (err) {
        if (!(err instanceof ChannelOptionsError)) throw err;
        r.log.warn(`livechat: channel ${channel.id} options refused: ${err.message}`);
        if (err.validationErrorMessage) return json(res, 400, { validationErrorMessage: err.validationErrorMessage });
        return void res.sendStatus(400);
      }
      await storeChannelOptionsFile(r.place.dataDir, channel.id, configuration);
      await r.channels.saved(channel.id, configuration);
      json(res, 200, { channel, configuration });
    }),
  );
}
