// !commands: "!name" (first word of a message) answers with one of the configured messages.
import type { HandlerConf } from '../room-conf.js';
import type { BotHandler, BotRoomApi } from './types.js';

export function commandSayHandler(conf: Extract<HandlerConf, { type: 'command_say' }>, room: BotRoomApi): BotHandler {
  return {
    command(name) {
      if (!conf.commands.includes(name) || !conf.quotes.length) return;
      room.say(conf.quotes[Math.floor(Math.random() * conf.quotes.length)]);
    },
    stop() {
      /* stateless */
    },
  };
}
