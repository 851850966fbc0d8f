// The chat server's configuration from the plugin's settings and where PeerTube runs. Pure, so it is unit tested.
import { join } from 'node:path';
import type { LivechatSettings } from './settings.js';

export interface PluginPlace {
  /** PeerTube's public host name: the XMPP domain (anon.<host> and room.<host> follow). */
  host: string;
  /** The plugin's data folder (PeerTube's storage/plugins/data/peertube-plugin-livechat). */
  dataDir: string;
  /** Public path prefixes, e.g. '/plugins/livechat/router' and '/plugins/livechat/ws'. */
  routerPath: string;
  wsPath: string;
  /** PeerTube's public base URL (sent to WebSocket S2S peers so they can fetch our federation infos). */
  webserverUrl: string;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

/** livechat's avatar sets mapped onto the server's drawn sets (sepia and fenec have no twin: birds and cats). */
export const AVATAR_SETS: Record<LivechatSettings['avatarSet'], string> = {
  sepia: 'birds',
  cat: 'cats',
  bird: 'birds',
  fenec: 'cats',
  abstract: 'abstract',
  legacy: 'shapes',
  none: 'none',
};

/** How long an automatic ban by address lasts (auto-ban-anonymous-ip). */
export const AUTO_BAN_SECONDS = 24 * 3600;

/** The folder the chat server keeps its own files in, beside livechat's tokens/ and room-channel/ folders. */
export const SERVER_DATA_SUBDIR = 'xmpp';

/** The moderation bot's JID (its own domain, served in-process); it shows the bot avatar. */
export function botJid(p: PluginPlace): string {
  return `moderator@bot.${p.host}`;
}

export function buildServerConfig(s: LivechatSettings, p: PluginPlace): Record<string, unknown> {
  const config: Record<string, unknown> = {
    domain: p.host,
    anonymousHost: s.noAnonymous ? null : `anon.${p.host}`,
    mucHost: `room.${p.host}`,
    dataDir: join(p.dataDir, SERVER_DATA_SUBDIR),
    logLevel: p.logLevel ?? 'info',
    // PeerTube owns HTTP: nothing listens, routes are mounted on its router and its upgrade event.
    http: {
      listen: false,
      websocketPath: `${p.wsPath}/xmpp-websocket`,
      boshPath: `${p.routerPath}/http-bind`,
      considerSecure: true,
    },
    muc: {
      creation: 'callback',
      defaultRoomConfig: {
        persistent: true,
        enableArchiving: s.mucLogByDefault,
        whois: 'moderators',
      },
      // livechat's chat-terms, shown to every joiner from room/Peertube (changed live, see runtime).
      terms: s.chatTerms,
      // livechat's auto-ban-anonymous-ip: livechat keeps such bans until its Prosody restarts; here a day.
      autoBanAnonymousIpSeconds: s.autoBanAnonymousIp ? AUTO_BAN_SECONDS : 0,
    },
    // The moderation bot reads the streamers' settings where livechat writes them: bot/<muc host>/rooms/*.json.
    bot: { enabled: !s.disableChannelConfiguration, dir: join(p.dataDir, 'bot', `room.${p.host}`), jid: botJid(p) },
    archive: { expiry: s.mucExpiration },
    // Served on the plugin router: <router>/avatars/<sha1>.png.
    avatars: {
      set: AVATAR_SETS[s.avatarSet],
      httpPath: '/avatars',
      bots: s.disableChannelConfiguration ? [] : [botJid(p)],
    },
    // The plugin serves its own page (room keys follow the room-type setting).
    webchat: { enabled: false },
    // Every BOSH request goes through PeerTube's per-IP limit on plugin routes (500 per 10 s by default): a room's
    // messages at most once a second keep a BOSH viewer of a busy room near 10 requests per 10 s instead of ten times
    // that; answers (the login's steps) are not held by it.
    bosh: { pushIntervalMs: 1000 },
  };
  if (s.c2s) {
    config.tcp = { enabled: true, port: s.c2sPort, interfaces: s.c2sInterfaces, requireEncryption: true };
  } else {
    config.tcp = { enabled: false };
  }
  // S2S over WebSocket (XEP-0468) through PeerTube's HTTP front, as livechat publishes it unless the admin keeps the
  // chat off other instances; classic TCP S2S only with prosody-room-allow-s2s.
  const websocket = s.federationDontPublishRemotely
    ? { enabled: false }
    : {
        enabled: true,
        path: `${p.wsPath}/xmpp-websocket-s2s`,
        serverInfosDir: join(p.dataDir, 'serverInfos'),
        instanceUrl: p.webserverUrl,
      };
  config.s2s = s.roomAllowS2s
    ? { enabled: true, port: s.s2sPort, interfaces: s.s2sInterfaces, websocket }
    : { enabled: false, websocket };
  if (s.certificatesDir) config.certs = { folder: s.certificatesDir };
  return config;
}
