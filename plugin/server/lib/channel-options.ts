// A channel's chat options in livechat's shape and file (channelConfigurationOptions/<channel id>.json): the bot,
// slow mode, muted anonymous viewers, moderation delay and anonymization, and the channel's terms. The checks follow
// livechat's rules (what it accepts and refuses, its limits and the defaults older files lack), so a file moves
// between livechat and this plugin both ways and the front-end's form gets the same answers.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ForbiddenWords {
  enabled: boolean;
  regexp: boolean;
  entries: string[];
  applyToModerators: boolean;
  label?: string;
  reason?: string;
  comments?: string;
}

export interface ChannelOptions {
  bot: {
    enabled: boolean;
    nickname: string;
    forbiddenWords: ForbiddenWords[];
    forbidSpecialChars: { enabled: boolean; reason: string; tolerance: number; applyToModerators: boolean };
    noDuplicate: { enabled: boolean; reason: string; delay: number; applyToModerators: boolean };
    quotes: Array<{ messages: string[]; delay: number }>;
    commands: Array<{ message: string; command: string }>;
  };
  slowMode: { duration: number };
  mute: { anonymous: boolean };
  moderation: { delay: number; anonymize: boolean };
  terms?: string;
}

export const TERMS_MAX_LENGTH = 400;
const SPECIAL_CHARS_MAX_TOLERANCE = 10;
const NO_DUPLICATE_MAX_DELAY = 86400;
const NO_DUPLICATE_DEFAULT_DELAY = 60;

/** A refusal of the submitted options; `validationErrorMessage` goes back to the form (livechat's 400 body). */
export class ChannelOptionsError extends Error {
  constructor(
    message: string,
    readonly validationErrorMessage?: string,
  ) {
    super(message);
  }
}

export function defaultChannelOptions(): ChannelOptions {
  return {
    bot: {
      enabled: false,
      nickname: 'Sepia',
      forbiddenWords: [],
      forbidSpecialChars: { enabled: false, reason: '', tolerance: 0, applyToModerators: false },
      noDuplicate: { enabled: false, reason: '', delay: NO_DUPLICATE_DEFAULT_DELAY, applyToModerators: false },
      quotes: [],
      commands: [],
    },
    slowMode: { duration: 0 },
    mute: { anonymous: false },
    moderation: { delay: 0, anonymize: false },
  };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object';
const fail = (m: string): never => {
  throw new ChannelOptionsError(m);
};
const obj = (v: unknown, field: string): Obj => (isObj(v) ? v : fail(`invalid ${field}`));
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/g;

function bool(o: Obj, f: string): boolean {
  if (!(f in o)) return false;
  return typeof o[f] === 'boolean' ? (o[f] as boolean) : fail(`${f}: expected a boolean`);
}

function integer(o: Obj, f: string, min: number, max: number): number {
  if (!(f in o)) fail(`${f}: missing`);
  const v = typeof o[f] === 'number' ? Math.trunc(o[f] as number) : parseInt(String(o[f]), 10);
  if (Number.isNaN(v)) fail(`${f}: not a number`);
  if (v < min || v > max) fail(`${f}: must be between ${min} and ${max}`);
  return v;
}

function text(o: Obj, f: string, opts: { strict?: boolean; noSpace?: boolean } = {}): string {
  if (!(f in o)) return '';
  if (typeof o[f] !== 'string') fail(`${f}: expected a string`);
  let s = (o[f] as string).replace(CONTROL, '');
  // livechat drops a last character that is not a letter, digit, space, _ or - (bot nickname).
  if (opts.strict) s = s.replace(/[^\p{L}\p{N}\p{Z}_-]$/u, '');
  if (opts.noSpace) s = s.replace(/\s+/g, '');
  return s;
}

function multiline(o: Obj, f: string): string {
  if (!(f in o)) return '';
  return typeof o[f] === 'string' ? (o[f] as string).replace(CONTROL_BUT_NEWLINE, '') : fail(`${f}: expected a string`);
}

function strings(o: Obj, f: string): string[] {
  if (!(f in o)) return [];
  if (!Array.isArray(o[f])) fail(`${f}: expected a list`);
  return (o[f] as unknown[])
    .map((v) => (typeof v === 'string' ? v : fail(`${f}: expected strings`)))
    .filter((v) => v.trim() !== '');
}

function patterns(o: Obj, f: string): string[] {
  const list = strings(o, f);
  for (const p of list) {
    try {
      new RegExp(p);
    } catch (err) {
      throw new ChannelOptionsError(`invalid value in field ${f}`, String(err));
    }
  }
  return list;
}

function list<T>(v: unknown, field: string, each: (o: Obj) => T): T[] {
  if (!Array.isArray(v)) fail(`invalid ${field}`);
  return (v as unknown[]).map((x) => each(obj(x, `entry in ${field}`)));
}

/**
 * Checks and normalises submitted or stored options; throws ChannelOptionsError when they are not acceptable.
 * `usersRegexp` is livechat's `enable-users-regexp` setting: without it, regular-expression word lists are kept
 * but switched off.
 */
export function sanitizeChannelOptions(data: unknown, usersRegexp: boolean): ChannelOptions {
  const d = obj(data, 'data');
  const bot = obj(d.bot ?? {}, 'bot');
  const slow = obj(d.slowMode ?? {}, 'slowMode');
  slow.duration ??= slow.defaultDuration ?? 0; // livechat 8.3 called it defaultDuration
  const moderation = obj(d.moderation ?? {}, 'moderation');
  moderation.delay ??= 0;
  moderation.anonymize ??= false;
  const mute = obj(d.mute ?? {}, 'mute');
  mute.anonymous ??= false;
  const defaults = defaultChannelOptions().bot;
  const special = obj(bot.forbidSpecialChars ?? { ...defaults.forbidSpecialChars }, 'bot.forbidSpecialChars');
  const dup = obj(bot.noDuplicate ?? { ...defaults.noDuplicate }, 'bot.noDuplicate');
  let terms = d.terms ?? undefined;
  if (terms !== undefined && typeof terms !== 'string') fail('terms: expected a string');
  if (typeof terms === 'string' && terms.length > TERMS_MAX_LENGTH) fail('terms: too long');
  if (terms === '') terms = undefined;

  const out: ChannelOptions = {
    bot: {
      enabled: bool(bot, 'enabled'),
      nickname: text(bot, 'nickname', { strict: true }),
      forbiddenWords: list(bot.forbiddenWords, 'bot.forbiddenWords', (fw) => {
        const regexp = !!fw.regexp;
        let enabled = 'enabled' in fw ? bool(fw, 'enabled') : true;
        if (enabled && regexp && !usersRegexp) enabled = false;
        const entry: ForbiddenWords = {
          enabled,
          regexp,
          entries: regexp ? patterns(fw, 'entries') : strings(fw, 'entries'),
          applyToModerators: bool(fw, 'applyToModerators'),
        };
        if (fw.label) entry.label = text(fw, 'label');
        if (fw.reason) entry.reason = text(fw, 'reason');
        if (fw.comments) entry.comments = multiline(fw, 'comments');
        return entry;
      }),
      forbidSpecialChars: {
        enabled: bool(special, 'enabled'),
        reason: text(special, 'reason'),
        tolerance: integer(special, 'tolerance', 0, SPECIAL_CHARS_MAX_TOLERANCE),
        applyToModerators: bool(special, 'applyToModerators'),
      },
      noDuplicate: {
        enabled: bool(dup, 'enabled'),
        reason: text(dup, 'reason'),
        delay: integer(dup, 'delay', 0, NO_DUPLICATE_MAX_DELAY),
        applyToModerators: bool(dup, 'applyToModerators'),
      },
      quotes: list(bot.quotes, 'bot.quotes', (q) => ({
        messages: strings(q, 'messages'),
        delay: integer(q, 'delay', 1, 6000),
      })),
      commands: list(bot.commands, 'bot.commands', (c) => ({
        message: text(c, 'message'),
        command: text(c, 'command', { noSpace: true }),
      })),
    },
    slowMode: { duration: integer(slow, 'duration', 0, 1000) },
    mute: { anonymous: bool(mute, 'anonymous') },
    moderation: { delay: integer(moderation, 'delay', 0, 60), anonymize: bool(moderation, 'anonymize') },
  };
  if (terms !== undefined) out.terms = terms as string;
  return out;
}

function optionsFile(pluginDataDir: string, channelId: number): string {
  if (!Number.isSafeInteger(channelId) || channelId <= 0) throw new Error(`invalid channel id ${channelId}`);
  return join(pluginDataDir, 'channelConfigurationOptions', `${channelId}.json`);
}

/** The channel's stored options, checked again; null when it never saved any. Throws on an unusable file. */
export async function readChannelOptionsFile(
  pluginDataDir: string,
  channelId: number,
  usersRegexp: boolean,
): Promise<ChannelOptions | null> {
  let raw: string;
  try {
    raw = await readFile(optionsFile(pluginDataDir, channelId), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return sanitizeChannelOptions(JSON.parse(raw), usersRegexp);
}

export async function storeChannelOptionsFile(
  pluginDataDir: string,
  channelId: number,
  options: ChannelOptions,
): Promise<void> {
  const file = optionsFile(pluginDataDir, channelId);
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify(options), 'utf8');
  await rename(`${file}.tmp`, file);
}

/** What a new room of the channel starts with (livechat's room defaults), as this server's room settings. */
export function roomDefaultsOf(o: ChannelOptions): Record<string, unknown> {
  return {
    slowModeDuration: o.slowMode.duration,
    muteAnonymous: o.mute.anonymous,
    moderationDelay: o.moderation.delay,
    anonymizeModerationActions: o.moderation.anonymize,
  };
}
