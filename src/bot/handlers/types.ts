// What a bot handler sees of its room and can do in it.
import type { Element } from '../../xmpp/xml.js';

export interface RoomUser {
  nick: string;
  role: string;
  occupantId?: string;
  jid?: string;
}

export interface IncomingMessage {
  stanza: Element;
  body: string;
  user: RoomUser;
  /** The room's XEP-0359 id, which moderation refers to. */
  stanzaId?: string;
}

export interface BotRoomApi {
  readonly roomJid: string;
  say(text: string, extra?: Element[]): void;
  /** Retracts a message as moderator (XEP-0425, the form livechat's bot sends). */
  moderate(stanzaId: string, reason?: string): void;
  /** Occupants online, the bot included. */
  onlineCount(): number;
  warn(msg: string): void;
}

export interface BotHandler {
  message?(m: IncomingMessage): void;
  command?(name: string, m: IncomingMessage): void;
  joined?(u: RoomUser): void;
  stop(): void;
}
