// One room's bot configuration in livechat's layout (bot/<muc host>/rooms/<room>.json, the xmppjs-chat-bot
// RoomConf the plugin writes): nick, enabled, and a list of handlers. Parsed into typed handler settings; a handler
// with a bad value is reported by its id and field and left out, the others still apply.
import { compileSafe, type SafeRegExp } from './safe-regexp.js';

export interface ModerateRule {
  name: string;
  regexp: SafeRegExp;
  reason?: string;
}
export type HandlerConf =
  | { type: 'moderate'; id: string; rules: ModerateRule[]; applyToModerators: boolean }
  | { type: 'no-duplicate'; id: string; delayMs: number; reason?: string; applyToModerators: boolean }
  | { type: 'quotes' | 'quotes_random'; id: string; quotes: string[]; delayMs: number }
  | { type: 'command_say'; id: string; commands: string[]; quotes: string[] }
  | { type: 'hello'; id: string; txt: string; delayMs?: number };

export interface RoomConf {
  /** Room local part. */
  local: string;
  domain: string;
  nick?: string;
  enabled: boolean;
  handlers: HandlerConf[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const strings = (v: unknown): string[] =>
  (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
const seconds = (v: unknown, def: number, field: string): number => {
  if (v === undefined) return def * 1000;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${field} must be a number of seconds`);
  return v * 1000;
};

function parseHandler(h: Obj): HandlerConf | null {
  const id = String(h.id ?? '');
  const o = isObj(h.options) ? h.options : {};
  const applyToModerators = o.applyToModerators === true;
  switch (h.type) {
    case 'moderate': {
      const rules: ModerateRule[] = [];
      const list = Array.isArray(o.rules) ? o.rules : o.rules === undefined ? [] : [o.rules];
      list.forEach((r, i) => {
        const field = `options.rules[${i}]`;
        if (typeof r === 'string') rules.push({ name: r, regexp: compileSafe(r) });
        else if (isObj(r) && typeof r.regexp === 'string' && typeof r.name === 'string') {
          const modifiers = typeof r.modifiers === 'string' ? r.modifiers : undefined;
          try {
            rules.push({
              name: r.name,
              regexp: compileSafe(r.regexp, modifiers),
              reason: typeof r.reason === 'string' ? r.reason : undefined,
            });
          } catch (err) {
            throw new Error(`${field}.regexp: ${(err as Error).message}`, { cause: err });
          }
        } else throw new Error(`${field}: a rule needs a name and a regexp`);
      });
      return { type: 'moderate', id, rules, applyToModerators };
    }
    case 'no-duplicate':
      return {
        type: 'no-duplicate',
        id,
        delayMs: seconds(o.delay, 60, 'options.delay'),
        reason: typeof o.reason === 'string' ? o.reason : undefined,
        applyToModerators,
      };
    case 'quotes':
    case 'quotes_random':
      return { type: h.type, id, quotes: strings(o.quotes ?? []), delayMs: seconds(o.delay, 10, 'options.delay') };
    case 'command_say':
      return { type: 'command_say', id, commands: strings(o.command ?? []), quotes: strings(o.quotes ?? []) };
    case 'hello':
      return {
        type: 'hello',
        id,
        txt: typeof o.txt === 'string' ? o.txt : 'Hello {{NICK}}!',
        delayMs: o.delay === undefined ? undefined : seconds(o.delay, 0, 'options.delay'),
      };
    default:
      throw new Error(`unknown handler type ${JSON.stringify(h.type)}`);
  }
}

/** Parses a room file; `warn` gets one line per handler left out. Throws when the file is not a room conf at all. */
export function parseRoomConf(json: unknown, warn: (msg: string) => void): RoomConf {
  if (!isObj(json)) throw new Error('not a JSON object');
  if (typeof json.local !== 'string' || !json.local) throw new Error('local: the room local part is required');
  if (typeof json.domain !== 'string' || !json.domain) throw new Error('domain: the MUC host is required');
  const handlers: HandlerConf[] = [];
  const list = Array.isArray(json.handlers) ? json.handlers : [];
  list.forEach((h, i) => {
    if (!isObj(h)) {
      warn(`handlers[${i}]: not an object`);
      return;
    }
    if (h.enabled === false) return;
    try {
      const parsed = parseHandler(h);
      if (parsed) handlers.push(parsed);
    } catch (err) {
      warn(`handlers[${i}] (${String(h.id ?? h.type)}): ${(err as Error).message}`);
    }
  });
  return {
    local: json.local.toLowerCase(),
    domain: json.domain.toLowerCase(),
    nick: typeof json.nick === 'string' && json.nick ? json.nick : undefined,
    enabled: json.enabled !== false,
    handlers,
  };
}
