// Forbidden words and other patterns: the first rule a message matches retracts it, with the rule's reason.
// Moderators are exempt unless the handler says otherwise.
import type { HandlerConf } from '../room-conf.js';
import type { BotHandler, BotRoomApi } from './types.js';

export function moderateHandler(conf: Extract<HandlerConf, { type: 'moderate' }>, room: BotRoomApi): BotHandler {
  return {
    message({ body, user, stanzaId }) {
      if (!stanzaId) return;
      for (const rule of conf.rules) {
        if (!rule.regexp.test(body)) continue;
        if (!conf.applyToModerators && user.role === 'moderator') continue;
        room.moderate(stanzaId, rule.reason);
        return;
      }
    },
    stop() {
      /* stateless */
    },
  };
}
