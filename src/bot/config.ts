// Typed `bot` config section: the in-process moderation bot and where it reads livechat's room files.
import { join } from 'node:path';
import { ConfigError, asObject, bool, onlyKeys, str } from '../config-schema.js';

export interface BotConfig {
  enabled: boolean;
  /** livechat's bot folder for this MUC host; room files are in <dir>/rooms/*.json. */
  dir: string;
  /** The bot's JID; its domain is served in-process. */
  jid: string;
  /** Nickname unless a room file sets one (livechat's default bot is "Sepia"). */
  nick: string;
}

export function validateBot(
  raw: unknown,
  path: string,
  ctx: { dataDir: string; domain: string; mucHost: string },
): BotConfig {
  const o = asObject(raw, path);
  onlyKeys(o, ['enabled', 'dir', 'jid', 'nick'], path);
  const jid = str(o, 'jid', `moderator@bot.${ctx.domain}`, path, (s) =>
    /^[^@/\s]+@[a-z0-9.-]+$/.test(s) ? null : `"${s}" is not a bare JID`,
  );
  const domain = jid.split('@')[1];
  if (domain === ctx.domain || domain === ctx.mucHost)
    throw new ConfigError(`${path}.jid`, 'must be on a domain of its own (bot.<domain>)');
  const nick = str(o, 'nick', 'Sepia', path);
  if (!nick.trim()) throw new ConfigError(`${path}.nick`, 'must not be empty');
  return {
    enabled: bool(o, 'enabled', false, path),
    dir: str(o, 'dir', join(ctx.dataDir, 'bot', ctx.mucHost), path),
    jid,
    nick,
  };
}
