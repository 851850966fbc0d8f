// Timed messages: every `delay` seconds one of the quotes (in turn, or at random for quotes_random), only when
// someone besides the bot is there to read it.
import type { HandlerConf } from '../room-conf.js';
import type { BotHandler, BotRoomApi } from './types.js';

export function quotesHandler(
  conf: Extract<HandlerConf, { type: 'quotes' | 'quotes_random' }>,
  room: BotRoomApi,
): BotHandler {
  let n = 0;
  const timer = setInterval(
    () => {
      if (!conf.quotes.length || room.onlineCount() < 2) return;
      const i = conf.type === 'quotes' ? n++ % conf.quotes.length : Math.floor(Math.random() * conf.quotes.length);
      room.say(conf.quotes[i]);
    },
    Math.max(conf.delayMs, 1000),
  ).unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
