// What a streamer edits for their channel without touching files, applied at once to the channel's rooms:
//   GET/POST api/configuration/channel/emojis/:channelId   livechat's route and JSON: { channel, emojis: { customEmojis } }
//   GET/POST api/configuration/channel/team/:channelId     the channel moderator team: { channel, team: [{ user, role }] }
//   GET      emojis/channel/:channelId/definition          (public) the definition, as livechat serves it to the chat
//   GET      emojis/channel/:channelId/files/:file          (public) an emoji image
// The configuration routes are for the channel's owner and instance administrators and moderators (403 otherwise,
// 404 for an unknown channel, 400 with { validationErrorMessage } for a bad id or body), and answer 403 to everyone
// when the "disable-channel-configuration" setting is ticked, as livechat does.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LivechatRuntime } from './runtime.js';
import { json, route, type RouterLike } from './routes.js';
import {
  channelEmojisDir,
  EmojiDefinitionError,
  isEmojiFileName,
  sanitizeEmojis,
  saveEmojis,
  type ChannelEmojis,
} from './channel-emojis.js';
import { sanitizeTeam, TeamError, teamEntries } from './channel-team.js';
import type { ChannelInfos } from './channel-infos.js';
import { channelAccess } from './channel-access.js';

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
};

const channelId = (req: any): number | null => {
  const raw = String(req.params?.channelId ?? '');
  return /^\d{1,10}$/.test(raw) ? Number(raw) : null;
};

/** The channel (livechat's { id, name, displayName, ownerAccountId }) when the request's user may configure it;
 * otherwise the refusal is sent with its reason and null returned. */
async function allowedChannel(r: LivechatRuntime, req: any, res: any): Promise<ChannelInfos | null> {
  const a = await channelAccess(r, req, res);
  if ('channel' in a) return a.channel;
  json(res, a.status, a.status === 400 ? { validationErrorMessage: a.message } : { error: a.message });
  return null;
}

async function readDefinition(r: LivechatRuntime, id: number): Promise<ChannelEmojis> {
  try {
    return JSON.parse(
      await readFile(join(channelEmojisDir(r.place.dataDir, id), 'definition.json'), 'utf8'),
    ) as ChannelEmojis;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { customEmojis: [] };
    throw err;
  }
}

/** Localparts of the channel's rooms present on the server (video rooms of its videos, or its channel room). */
async function channelRooms(r: LivechatRuntime, id: number): Promise<string[]> {
  const out: string[] = [];
  for (const [lp, room] of r.server.muc.rooms) {
    if (room.data.channel === String(id) || (room.data.channel === undefined && (await r.roomChannelId(lp)) === id))
      out.push(lp);
  }
  return out;
}

/** One save at a time per channel: a save removes the image files its definition no longer uses. */
const saving = new Map<number, Promise<unknown>>();
function serialized<T>(id: number, job: () => Promise<T>): Promise<T> {
  const run = (saving.get(id) ?? Promise.resolve()).then(job, job);
  const tail = run.catch(() => undefined);
  saving.set(id, tail);
  void tail.then(() => {
    if (saving.get(id) === tail) saving.delete(id);
  });
  return run;
}

export function mountChannelEditorRoutes(router: RouterLike, rt: () => LivechatRuntime | null): void {
  const filesBase = (r: LivechatRuntime, id: number) =>
    `${r.place.webserverUrl}${r.place.routerPath}/emojis/channel/${id}/files/`;

  router.get(
    '/api/configuration/channel/emojis/:channelId',
    route(rt, async (r, req, res) => {
      const channel = await allowedChannel(r, req, res);
      if (!channel) return;
      json(res, 200, { channel, emojis: await readDefinition(r, channel.id) });
    }),
  );

  router.post(
    '/api/configuration/channel/emojis/:channelId',
    route(rt, async (r, req, res) => {
      const channel = await allowedChannel(r, req, res);
      if (!channel) return;
      let clean;
      try {
        clean = sanitizeEmojis(req.body, filesBase(r, channel.id));
      } catch (err) {
        if (!(err instanceof EmojiDefinitionError)) throw err;
        return json(res, 400, { validationErrorMessage: err.message });
      }
      await serialized(channel.id, () => saveEmojis(r.place.dataDir, channel.id, clean.definition, clean.files));
      // Emoji-only mode of every room of the channel accepts the new shortnames at once.
      for (const lp of await channelRooms(r, channel.id)) await r.applyChannelData(lp);
      json(res, 200, { channel, emojis: await readDefinition(r, channel.id) });
    }),
  );

  router.get(
    '/api/configuration/channel/team/:channelId',
    route(rt, async (r, req, res) => {
      const channel = await allowedChannel(r, req, res);
      if (!channel) return;
      json(res, 200, { channel, team: teamEntries(r.server.muc.teams.getTeam(String(channel.id)), r.place.host) });
    }),
  );

  router.post(
    '/api/configuration/channel/team/:channelId',
    route(rt, async (r, req, res) => {
      const channel = await allowedChannel(r, req, res);
      if (!channel) return;
      let clean;
      try {
        clean = await sanitizeTeam(
          req.body,
          r.place.host,
          async (username) =>
            (
              await r.query(
                'SELECT "user"."id" AS "id" FROM "user" WHERE lower("user"."username") = :username LIMIT 1',
                { username },
              )
            ).length > 0,
        );
      } catch (err) {
        if (!(err instanceof TeamError)) throw err;
        return json(res, 400, { validationErrorMessage: err.message });
      }
      // Rooms stored before rooms named their channel (imported from livechat) are tied to it first.
      for (const lp of await channelRooms(r, channel.id)) {
        const room = r.server.muc.getRoom(lp);
        if (room && room.data.channel === undefined) r.server.muc.teams.assignRoom(room, String(channel.id));
      }
      r.server.muc.teams.setTeam(String(channel.id), clean.team);
      json(res, 200, { channel, team: teamEntries(r.server.muc.teams.getTeam(String(channel.id)), r.place.host) });
    }),
  );

  // Public, as livechat serves them: the chat front-end loads the definition and images.
  router.get(
    '/emojis/channel/:channelId/definition',
    route(rt, async (r, req, res) => {
      const id = channelId(req);
      if (id === null) return json(res, 400, { error: 'bad channel id' });
      try {
        const data = await readFile(join(channelEmojisDir(r.place.dataDir, id), 'definition.json'));
        res.writeHead(200, {
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Length': String(data.length),
          'Cache-Control': 'no-cache',
        });
        res.end(data);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        json(res, 404, { error: 'this channel has no custom emojis' });
      }
    }),
  );

  router.get(
    '/emojis/channel/:channelId/files/:fileName',
    route(rt, async (r, req, res) => {
      const id = channelId(req);
      const file = String(req.params?.fileName ?? '');
      if (id === null || !isEmojiFileName(file)) return json(res, 400, { error: 'bad channel id or file name' });
      try {
        const data = await readFile(join(channelEmojisDir(r.place.dataDir, id), 'files', file));
        res.writeHead(200, {
          'Content-Type': IMAGE_TYPES[file.split('.').pop()!],
          'Content-Length': String(data.length),
          // A file name is never reused for other bytes (new uploads get new names).
          'Cache-Control': 'public, max-age=86400, immutable',
          'X-Content-Type-Options': 'nosniff',
        });
        res.end(data);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        json(res, 404, { error: 'no such emoji file' });
      }
    }),
  );
}
