// Welcome message: greets each newcomer, {{NICK}} replaced by a mention of them (XEP-0372 reference); with a delay,
// someone who rejoins within it is not greeted again.
import { el } from '../../xmpp/xml.js';
import type { HandlerConf } from '../room-conf.js';
import type { BotHandler, BotRoomApi } from './types.js';

const PLACEHOLDER = '{{NICK}}';

export function helloHandler(conf: Extract<HandlerConf, { type: 'hello' }>, room: BotRoomApi): BotHandler {
  const last = new Map<string, number>();
  return {
    joined(user) {
      if (conf.delayMs !== undefined) {
        const key = user.occupantId ?? user.jid ?? user.nick;
        const now = Date.now();
        const prev = last.get(key);
        last.set(key, now);
        if (prev !== undefined && now - prev < conf.delayMs) return;
      }
      const at = conf.txt.indexOf(PLACEHOLDER);
      const text = conf.txt.split(PLACEHOLDER).join(user.nick);
      const refs =
        at < 0
          ? []
          : [
              el('reference', {
                xmlns: 'urn:xmpp:reference:0',
                type: 'mention',
                begin: String([...conf.txt.slice(0, at)].length),
                end: String([...conf.txt.slice(0, at)].length + [...user.nick].length),
                uri: `xmpp:${room.roomJid}/${user.nick}`,
              }),
            ];
      room.say(text, refs);
    },
    stop() {
      last.clear();
    },
  };
}
