// The moderation bot's file for one room (bot/<muc host>/rooms/<room>.json, which the in-process bot re-reads when
// it changes), made from its channel's options as livechat makes it: one handler per forbidden-words list, quote
// list and command, the special-characters and no-duplicate rules when on, and every handler of the previous file
// that is gone kept but switched off. A disabled bot's room gets no new file; an existing one is switched off.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChannelOptions, ForbiddenWords } from './channel-options.js';

interface Handler {
  type: string;
  id: string;
  enabled: boolean;
  options: Record<string, unknown>;
}
interface BotRoomFile {
  local: string;
  domain: string;
  enabled: boolean;
  nick?: string;
  handlers: Handler[];
}

/** A plain word becomes a pattern matching it as a word (no \b next to a non-word character such as an emoji). */
function wordPattern(word: string): string {
  let s = word.replace(/[-[\]/{}()*+?.\\^$|]/g, '\\$&');
  if (/^\w/.test(s)) s = `\\b${s}`;
  if (/\w$/.test(s)) s = `${s}\\b`;
  return s;
}

/** The bot's pattern for a list of plain words, each matched as a word (livechat's escaping and boundaries). */
export function wordListPattern(words: string[]): string {
  return alternation(words.map(wordPattern));
}

const alternation = (patterns: string[]) => `(?:${patterns.join(')|(?:')})`;

function forbiddenWordsHandler(id: string, fw: ForbiddenWords): Handler {
  const h: Handler = { type: 'moderate', id, enabled: false, options: { rules: [] } };
  if (fw.entries.length === 0) return h;
  const rule: Record<string, string> = {
    name: id,
    regexp: fw.regexp ? alternation(fw.entries) : wordListPattern(fw.entries),
  };
  if (fw.reason) rule.reason = fw.reason;
  return { ...h, enabled: fw.enabled, options: { rules: [rule], applyToModerators: fw.applyToModerators } };
}

const SPECIAL_CHAR =
  '[^\\s\\p{Letter}\\p{Number}\\p{Punctuation}\\p{Currency_Symbol}\\p{Emoji}\\p{Emoji_Component}\\p{Emoji_Modifier}]';

export function botRoomConf(
  o: ChannelOptions,
  local: string,
  domain: string,
  previous: BotRoomFile | null,
): BotRoomFile {
  const handlers: Handler[] = [];
  o.bot.forbiddenWords.forEach((fw, i) => handlers.push(forbiddenWordsHandler(`forbidden_words_${i}`, fw)));
  const special = o.bot.forbidSpecialChars;
  if (special.enabled) {
    // More than `tolerance` special characters in one message.
    const regexp = Array.from({ length: special.tolerance + 1 }, () => SPECIAL_CHAR).join('.*');
    handlers.push({
      type: 'moderate',
      id: 'forbid_special_chars',
      enabled: true,
      options: {
        rules: [{ name: 'forbid_special_chars', regexp, modifiers: 'us', reason: special.reason }],
        applyToModerators: special.applyToModerators,
      },
    });
  }
  const dup = o.bot.noDuplicate;
  if (dup.enabled) {
    handlers.push({
      type: 'no-duplicate',
      id: 'no_duplicate',
      enabled: true,
      options: { reason: dup.reason, delay: dup.delay, applyToModerators: dup.applyToModerators },
    });
  }
  o.bot.quotes.forEach((q, i) =>
    handlers.push({
      type: 'quotes_random',
      id: `quote_${i}`,
      enabled: q.messages.length > 0,
      options: q.messages.length > 0 ? { quotes: q.messages, delay: q.delay } : { quotes: [], delay: 300 },
    }),
  );
  o.bot.commands.forEach((c, i) =>
    handlers.push({
      type: 'command_say',
      id: `command_${i}`,
      enabled: !!c.message,
      options: c.message ? { command: c.command, quotes: [c.message] } : { command: 'undefined', quotes: [] },
    }),
  );
  const ids = new Set(handlers.map((h) => h.id));
  for (const h of previous?.handlers ?? [])
    if (!ids.has(h.id)) handlers.push({ ...structuredClone(h), enabled: false });
  const conf: BotRoomFile = { local, domain, enabled: o.bot.enabled, handlers };
  if (o.bot.nickname) conf.nick = o.bot.nickname;
  return conf;
}

function roomFile(botDir: string, local: string): string {
  if (!/^[\w.-]+$/.test(local) || local.startsWith('.')) throw new Error(`invalid room ${local}`);
  return join(botDir, 'rooms', `${local}.json`);
}

async function readRoomFile(file: string): Promise<BotRoomFile | null> {
  try {
    const v = JSON.parse(await readFile(file, 'utf8')) as BotRoomFile;
    return v && typeof v === 'object' && Array.isArray(v.handlers) ? v : null;
  } catch {
    return null;
  }
}

async function writeRoomFile(file: string, conf: BotRoomFile): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify(conf), 'utf8');
  await rename(`${file}.tmp`, file);
}

/**
 * Writes a room's bot file from its channel's options (`null`: the channel has none, the bot is switched off there).
 * `botDir` is bot/<muc host>.
 */
export async function writeBotRoomConf(
  botDir: string,
  local: string,
  domain: string,
  options: ChannelOptions | null,
  opts: { onlyIfMissing?: boolean } = {},
): Promise<void> {
  const file = roomFile(botDir, local);
  const previous = await readRoomFile(file);
  if (previous && opts.onlyIfMissing) return;
  if (!options) {
    if (previous && previous.enabled !== false) await writeRoomFile(file, { ...previous, enabled: false });
    return;
  }
  if (!options.bot.enabled && !previous) return;
  await writeRoomFile(file, botRoomConf(options, local, domain, previous));
}
