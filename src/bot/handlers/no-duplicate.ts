// No duplicate: the same text (case and spacing ignored) from the same person within the delay is retracted.
// People are told apart by occupant-id, which survives nick changes.
import type { HandlerConf } from '../room-conf.js';
import type { BotHandler, BotRoomApi } from './types.js';

const PRUNE_EVERY_MS = 5 * 60_000;

export function normalize(s: string): string {
  return s.replace(/\s+/g, ' ').trim().toLocaleLowerCase();
}

export function noDuplicateHandler(conf: Extract<HandlerConf, { type: 'no-duplicate' }>, room: BotRoomApi): BotHandler {
  const seen = new Map<string, Map<string, number>>();
  const prune = setInterval(() => {
    const limit = Date.now() - conf.delayMs;
    for (const [user, msgs] of seen) {
      for (const [text, at] of msgs) if (at < limit) msgs.delete(text);
      if (msgs.size === 0) seen.delete(user);
    }
  }, PRUNE_EVERY_MS).unref();
  return {
    message({ body, user, stanzaId }) {
      const key = user.occupantId ?? user.jid ?? user.nick;
      const text = normalize(body);
      let msgs = seen.get(key);
      if (!msgs) seen.set(key, (msgs = new Map()));
      const last = msgs.get(text);
      const now = Date.now();
      msgs.set(text, now);
      if (last === undefined || last < now - conf.delayMs) return;
      if (!conf.applyToModerators && user.role === 'moderator') return;
      if (stanzaId) room.moderate(stanzaId, conf.reason);
    },
    stop() {
      clearInterval(prune);
    },
  };
}
