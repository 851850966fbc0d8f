// One registered plugin: the chat server created in-process, the login store, the chat page, and the PeerTube
// lookups they need. Settings that change domains or listeners restart the server in place.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createServer,
  createWebchatHandler,
  importLivechatOnFirstStart,
  webchatCacheDir,
  type Logger,
  type WebchatHandler,
  type XmppServer,
} from '../../../src/index.js';
import { UserAuth, newSecretKey, type PeerTubeUserLike } from './auth.js';
import { buildServerConfig, SERVER_DATA_SUBDIR, type PluginPlace } from './server-config.js';
import { join } from 'node:path';
import { mapSettings, needsRestart, SETTING_NAMES, type LivechatSettings } from './settings.js';
import { parseRoomLocalpart, roomCreationCallback, roomLocalpart, videoHasChat, type VideoLike } from './rooms.js';
import type { PeerTubeOptions } from './peertube.js';
import { buildServerInfos, fetchMissingServerInfos } from '../federation/index.js';
import { localChatServer } from './local-chat-server.js';
import { channelShortnames, channelTerms } from './channel-data.js';
import { accountAvatarUrl, type UserWithAvatars } from './account-avatars.js';
import { ChannelConfiguration } from './channel-config.js';
import { loadChannelInfos, type ChannelInfos } from './channel-infos.js';
import { syncRoomName } from './room-names.js';
import { peertubeClientAddress } from './client-address.js';

export const SECRET_KEY_NAME = 'livechat-prosody-auth-secretkey';

export function activeKey(videoId: number | string): string {
  return `livechat-active-${videoId}`;
}

/** PeerTube's storage hands back "true"/"false" strings, booleans, or null. */
export function isTrue(v: unknown): boolean {
  return v === true || v === 'true';
}

export class LivechatRuntime {
  server!: XmppServer;
  settings!: LivechatSettings;
  readonly auth: UserAuth;
  readonly log: Logger;
  private readonly page: WebchatHandler;
  private restarting: Promise<void> = Promise.resolve();
  /** Localparts of stored rooms whose video or channel has no chat now: nobody new may join (history is kept). */
  private readonly closed = new Set<string>();
  /** Channels' chat options (livechat's channel configuration) applied to their rooms. */
  readonly channels = new ChannelConfiguration(this);

  private constructor(
    readonly o: PeerTubeOptions,
    readonly place: PluginPlace,
    secretKey: string,
  ) {
    const l = o.peertubeHelpers.logger;
    this.log = { error: (m) => l.error(m), warn: (m) => l.warn(m), info: (m) => l.info(m), debug: (m) => l.debug(m) };
    this.auth = new UserAuth({
      domain: place.host,
      dataDir: place.dataDir,
      secretKey,
      tokensEnabled: () => !this.settings.tokensDisabled,
      userIdValid: async (id) => {
        const u = await o.peertubeHelpers.user.loadById(id);
        return !!u && !u.blocked;
      },
    });
    this.page = createWebchatHandler({
      basePath: '/webchat',
      publicBasePath: `${place.routerPath}/webchat`,
      websocketUrl: () => (this.settings.disableWebsocket ? undefined : `${place.wsPath}/xmpp-websocket`),
      boshUrl: `${place.routerPath}/http-bind`,
      authUrl: `${place.routerPath}/api/auth`,
      avatarsUrl: `${place.routerPath}/avatars`,
      anonymousHost: `anon.${place.host}`,
      mucHost: `room.${place.host}`,
      frameAncestors: "'self'",
      resolveRoom: (key, { options }) => this.resolveRoom(key, options.forcetype),
      title: () => 'Chat',
      // In the chat server's data folder, as the standalone server keeps them: kept across PeerTube restarts.
      cacheDir: webchatCacheDir(join(place.dataDir, SERVER_DATA_SUBDIR)),
      logger: this.log,
    });
  }

  static async start(o: PeerTubeOptions): Promise<LivechatRuntime> {
    const url = new URL(o.peertubeHelpers.config.getWebserverUrl());
    const base = o.peertubeHelpers.plugin.getBaseRouterRoute().replace(/\/[^/]+\/router\/$/, '');
    let secretKey = await o.storageManager.getData(SECRET_KEY_NAME);
    if (typeof secretKey !== 'string' || secretKey.length !== 32) {
      secretKey = newSecretKey();
      await o.storageManager.storeData(SECRET_KEY_NAME, secretKey);
    }
    const place: PluginPlace = {
      host: url.hostname.toLowerCase(),
      dataDir: o.peertubeHelpers.plugin.getDataDirectoryPath(),
      routerPath: `${base}/router`,
      wsPath: `${base}/ws`,
      webserverUrl: url.origin,
    };
    const rt = new LivechatRuntime(o, place, secretKey as string);
    rt.settings = await rt.readSettings();
    await rt.importFromLivechat();
    rt.server = rt.newServer();
    await rt.server.start();
    await rt.reviewRooms();
    return rt;
  }

  /** Switching from livechat: its Prosody rooms, affiliations and archives are imported once, before the first start. */
  private async importFromLivechat(): Promise<void> {
    try {
      const report = await importLivechatOnFirstStart({
        pluginDataDir: this.place.dataDir,
        dataDir: join(this.place.dataDir, SERVER_DATA_SUBDIR),
        mucHost: `room.${this.place.host}`,
        archive: { expiry: this.settings.mucExpiration },
        logByDefault: this.settings.mucLogByDefault,
        log: (level, message) => this.log[level](`livechat import: ${message}`),
      });
      if (report) {
        const messages = report.rooms.reduce((n, r) => n + r.messages, 0);
        this.log.info(
          `livechat import: ${report.rooms.length} rooms, ${messages} messages, ${report.errors.length} errors`,
        );
      }
    } catch (err) {
      // The chat still starts; the import is retried on the next start since nothing was recorded.
      this.log.error(`livechat import failed: ${(err as Error)?.stack ?? err}`);
    }
  }

  async readSettings(): Promise<LivechatSettings> {
    return mapSettings(((await this.o.settingsManager.getSettings(SETTING_NAMES)) ?? {}) as Record<string, unknown>);
  }

  private newServer(): XmppServer {
    const server = createServer(buildServerConfig(this.settings, this.place), {
      auth: this.auth,
      logger: this.log,
      // PeerTube users show their account avatar (fetched once per JID and cached by the server).
      avatarProvider: (bareJid) => this.accountAvatar(bareJid),
      // Viewers' own addresses behind PeerTube's trusted proxies (per-IP limits, bans by address).
      clientAddress: (req) => peertubeClientAddress(req),
      // A livechat peer told us its URL: fetch its federation infos (serverInfos/) once a day at most.
      onS2sPeerInstanceUrl: (peerUrl) => {
        fetchMissingServerInfos(this.place.dataDir, peerUrl, { pluginShortName: 'livechat' }).catch((e: unknown) =>
          this.log.warn(`livechat: cannot fetch server infos of ${peerUrl}: ${String(e)}`),
        );
      },
      mayJoinRoom: (roomJid) => !this.closed.has(roomJid.split('@')[0]),
      onCreateRoom: roomCreationCallback({
        settings: () => this.settings,
        domain: this.place.host,
        loadVideo: (uuid) => this.loadVideo(uuid),
        isChatActive: (id) => this.isChatActive(id),
        channelOwner: (id) => this.channelOwner(id),
        instanceModerators: () => this.instanceModerators(),
        channelDefaults: (id) => this.channels.roomDefaults(id),
      }),
    });
    // A new room gets its channel's custom emojis (emoji-only mode accepts them) and terms.
    server.muc.hooks.on('created', ({ room }) => {
      void this.applyChannelData(room.localpart, true);
    });
    return server;
  }

  /** Settings changed: room rules apply at once; domains, listeners and retention need a new server. */
  async settingsChanged(): Promise<void> {
    const next = await this.readSettings();
    const restart = needsRestart(this.settings, next);
    this.settings = next;
    if (!restart) {
      this.server.muc.setTerms(next.chatTerms);
      await this.reviewRooms();
      return;
    }
    this.restarting = this.restarting.then(async () => {
      this.log.info('livechat: settings changed, restarting the chat server');
      await this.server.stop();
      this.server = this.newServer();
      await this.server.start();
    });
    await this.restarting;
    await this.reviewRooms();
  }

  async stop(): Promise<void> {
    this.page.close();
    await this.restarting;
    await this.server.stop();
  }

  webchat(req: IncomingMessage, res: ServerResponse): boolean {
    return this.page(req, res);
  }

  authUser(res: unknown): Promise<PeerTubeUserLike | undefined> {
    // PeerTube returns undefined (not a promise) when nobody is logged in.
    return Promise.resolve(
      this.o.peertubeHelpers.user.getAuthUser(res as never) as unknown as PeerTubeUserLike | undefined,
    );
  }

  async nickname(user: PeerTubeUserLike & { Account?: { name?: string } }): Promise<string> {
    const rows = await this.query<{ name: string }>(
      'SELECT "account"."name" AS "name" FROM "account" WHERE "account"."userId" = :userId LIMIT 1',
      { userId: user.id },
    );
    return rows[0]?.name || user.Account?.name || user.username || '';
  }

  serverInfos(): Record<string, unknown> {
    return { ...buildServerInfos(localChatServer(this.settings, this.o.peertubeHelpers.config.getWebserverUrl())) };
  }

  // ---- PeerTube lookups -------------------------------------------------------------------------------

  async loadVideo(idOrUuid: string | number): Promise<VideoLike | null> {
    const v = await this.o.peertubeHelpers.videos.loadByIdOrUUID(idOrUuid as never);
    return (v as unknown as VideoLike) ?? null;
  }

  async isChatActive(videoId: number): Promise<boolean> {
    return isTrue(await this.o.storageManager.getData(activeKey(videoId)));
  }

  async videoHasChat(v: VideoLike): Promise<boolean> {
    return videoHasChat(v, this.settings, await this.isChatActive(v.id));
  }

  /** The room JID the page at webchat/room/<key> joins, or null (404): a video without chat has no page. */
  private async resolveRoom(key: string, forcetype: boolean): Promise<string | null> {
    const parsed = parseRoomLocalpart(key.toLowerCase());
    if (!parsed) return null;
    const muc = `room.${this.place.host}`;
    if (parsed.kind === 'channel') {
      return forcetype || this.settings.roomType === 'channel' ? `${key.toLowerCase()}@${muc}` : null;
    }
    const video = await this.loadVideo(parsed.uuid);
    if (!video || !(await this.videoHasChat(video))) return null;
    return `${roomLocalpart(video, this.settings)}@${muc}`;
  }

  private async channelOwner(channelId: number): Promise<{ username: string; channelName?: string } | null> {
    const rows = await this.query<{ username: string; channelName: string }>(
      'SELECT "user"."username" AS "username", "videoChannel"."name" AS "channelName" FROM "videoChannel" ' +
        'INNER JOIN "account" ON "account"."id" = "videoChannel"."accountId" ' +
        'INNER JOIN "user" ON "user"."id" = "account"."userId" WHERE "videoChannel"."id" = :channelId LIMIT 1',
      { channelId },
    );
    return rows[0] ?? null;
  }

  private async instanceModerators(): Promise<string[]> {
    // PeerTube roles: 0 administrator, 1 moderator, 2 user.
    const rows = await this.query<{ username: string }>(
      'SELECT "user"."username" AS "username" FROM "user" WHERE "user"."role" IN (0, 1)',
      {},
    );
    return rows.map((r) => r.username);
  }

  async channelInfos(channelId: number): Promise<ChannelInfos | null> {
    return loadChannelInfos((sql, rep) => this.query(sql, rep), channelId);
  }

  async query<T>(sql: string, replacements: Record<string, unknown>): Promise<T[]> {
    const rows = await this.o.peertubeHelpers.database.query(sql, { replacements, type: 'SELECT' });
    return Array.isArray(rows) ? (rows as T[]) : [];
  }

  /** Whether a stored room's video (or channel) has a chat under the current settings. */
  private async roomOpen(localpart: string): Promise<boolean> {
    const key = parseRoomLocalpart(localpart);
    if (!key) return false;
    if (key.kind === 'channel') return this.settings.roomType === 'channel';
    if (this.settings.roomType !== 'video') return false;
    const video = await this.loadVideo(key.uuid);
    return !!video && (await this.videoHasChat(video));
  }

  /** Re-decides every stored room (at start and after a settings change): closed ones empty out, open ones reopen. */
  async reviewRooms(): Promise<void> {
    for (const lp of [...this.server.muc.rooms.keys()]) await this.reviewRoom(lp);
  }

  async reviewRoom(localpart: string): Promise<void> {
    if (await this.roomOpen(localpart)) {
      this.closed.delete(localpart);
      await this.applyChannelData(localpart);
      await syncRoomName(this, localpart).catch((err: unknown) =>
        this.log.warn(`livechat: room name of ${localpart}: ${String(err)}`),
      );
      return;
    }
    this.closed.add(localpart);
    // Occupants are told the room went away for them (332); its configuration and history stay for a reopening.
    this.server.muc.getRoom(localpart)?.shutdown();
  }

  /** The channel a room belongs to: its key for channel rooms, the video's channel for video rooms. */
  async roomChannelId(localpart: string): Promise<number | undefined> {
    const key = parseRoomLocalpart(localpart);
    if (!key) return undefined;
    if (key.kind === 'channel') return key.id;
    return (await this.loadVideo(key.uuid))?.channelId;
  }

  /** Gives a room its channel's custom emoji shortnames and terms, as livechat stores them; failures are logged. */
  async applyChannelData(localpart: string, created = false): Promise<void> {
    try {
      const channelId = await this.roomChannelId(localpart);
      if (channelId === undefined) return;
      this.server.muc.setCustomEmojis(localpart, await channelShortnames(this.place.dataDir, channelId));
      const terms = await channelTerms(this.place.dataDir, channelId);
      if (terms !== undefined) this.server.muc.setRoomTerms(localpart, terms);
      if (created) await this.channels.roomCreated(localpart, channelId);
    } catch (err) {
      this.log.warn(`livechat: channel data of room ${localpart}: ${(err as Error)?.message ?? err}`);
    }
  }

  /** The avatar provider: the PeerTube account's avatar URL for <username>@<host>, or none. */
  private async accountAvatar(bareJid: string): Promise<string | undefined> {
    const [username, domain] = bareJid.split('@');
    if (domain !== this.place.host || !username) return undefined;
    const rows = await this.query<{ id: number }>(
      'SELECT "user"."id" AS "id" FROM "user" WHERE lower("user"."username") = :username LIMIT 1',
      { username: username.toLowerCase() },
    );
    if (!rows[0]) return undefined;
    const user = await this.o.peertubeHelpers.user.loadById(rows[0].id);
    return accountAvatarUrl(user as unknown as UserWithAvatars, this.place.webserverUrl);
  }

  /** The chat of a video was switched on or off on its form. */
  async videoChatChanged(v: VideoLike): Promise<void> {
    await this.reviewRoom(v.uuid);
  }

  /** A deleted video's room goes with it, history included. */
  destroyRoomOf(v: VideoLike): void {
    this.closed.delete(v.uuid);
    this.server.muc.destroyRoom(v.uuid, 'This video was deleted');
  }
}
