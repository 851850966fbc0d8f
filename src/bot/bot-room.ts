// The bot's view of one room, as any client sees it: its roster from presences (roles, occupant-ids), live
// messages (history, delayed and own messages are skipped), and the handlers of the room's configuration.
import { el, type Element } from '../xmpp/xml.js';
import type { RoomConf, HandlerConf } from './room-conf.js';
import type { BotHandler, BotRoomApi, IncomingMessage, RoomUser } from './handlers/types.js';
import { moderateHandler } from './handlers/moderate.js';
import { noDuplicateHandler } from './handlers/no-duplicate.js';
import { quotesHandler } from './handlers/quotes.js';
import { commandSayHandler } from './handlers/command-say.js';
import { helloHandler } from './handlers/hello.js';

const MUC = 'http://jabber.org/protocol/muc';
const MUC_USER = 'http://jabber.org/protocol/muc#user';

function makeHandler(h: HandlerConf, room: BotRoomApi): BotHandler {
  switch (h.type) {
    case 'moderate':
      return moderateHandler(h, room);
    case 'no-duplicate':
      return noDuplicateHandler(h, room);
    case 'quotes':
    case 'quotes_random':
      return quotesHandler(h, room);
    case 'command_say':
      return commandSayHandler(h, room);
    case 'hello':
      return helloHandler(h, room);
  }
}

let counter = 0;

export class BotRoom implements BotRoomApi {
  private roster = new Map<string, RoomUser>();
  private handlers: BotHandler[] = [];
  /** Our self-presence arrived: the initial roster is complete and later arrivals are newcomers. */
  online = false;
  /** Nick changes announced by 303, so the new nick's presence is no arrival. */
  private renames = new Set<string>();

  constructor(
    readonly roomJid: string,
    public nick: string,
    private send: (s: Element) => void,
    readonly warn: (msg: string) => void,
  ) {}

  get nickJid(): string {
    return `${this.roomJid}/${this.nick}`;
  }

  join(): void {
    this.send(el('presence', { to: this.nickJid }, el('x', { xmlns: MUC }, el('history', { maxstanzas: '0' }))));
  }

  leave(): void {
    this.send(el('presence', { to: this.nickJid, type: 'unavailable' }));
    this.stopHandlers();
    this.online = false;
    this.roster.clear();
  }

  setNick(nick: string): void {
    if (nick === this.nick) return;
    this.nick = nick;
    if (this.online) this.send(el('presence', { to: this.nickJid }));
  }

  apply(conf: RoomConf): void {
    this.stopHandlers();
    this.handlers = conf.handlers.map((h) => makeHandler(h, this));
  }

  stopHandlers(): void {
    for (const h of this.handlers) h.stop();
    this.handlers = [];
  }

  // ---- BotRoomApi ----

  say(text: string, extra: Element[] = []): void {
    this.send(
      el('message', { to: this.roomJid, type: 'groupchat', id: `bot${++counter}` }, el('body', {}, text), ...extra),
    );
  }

  moderate(stanzaId: string, reason?: string): void {
    this.send(
      el(
        'iq',
        { to: this.roomJid, type: 'set', id: `botmod${++counter}` },
        el(
          'apply-to',
          { xmlns: 'urn:xmpp:fasten:0', id: stanzaId },
          el(
            'moderate',
            { xmlns: 'urn:xmpp:message-moderate:0' },
            el('retract', { xmlns: 'urn:xmpp:message-retract:0' }),
            reason ? el('reason', {}, reason) : undefined,
          ),
        ),
      ),
    );
  }

  onlineCount(): number {
    return this.roster.size + (this.online ? 1 : 0);
  }

  // ---- incoming ----

  onStanza(s: Element): void {
    if (s.name === 'presence') this.onPresence(s);
    else if (s.name === 'message') this.onMessage(s);
  }

  private onPresence(s: Element): void {
    const nick = s.attrs.from?.slice(this.roomJid.length + 1) ?? '';
    if (s.attrs.type === 'error') {
      this.warn(
        `cannot join ${this.roomJid} as ${this.nick}: ${s.getChild('error')?.getChildElements()[0]?.name ?? 'error'}`,
      );
      return;
    }
    const x = s.getChild('x', MUC_USER);
    const codes = new Set((x?.getChildren('status') ?? []).map((c) => c.attrs.code));
    const item = x?.getChild('item');
    if (codes.has('110')) {
      if (s.attrs.type === 'unavailable') {
        if (!codes.has('303')) {
          this.online = false;
          this.roster.clear();
        }
      } else this.online = true;
      return;
    }
    if (s.attrs.type === 'unavailable') {
      this.roster.delete(nick);
      if (codes.has('303') && item?.attrs.nick) this.renames.add(item.attrs.nick);
      return;
    }
    const known = this.roster.has(nick);
    const user: RoomUser = {
      nick,
      role: item?.attrs.role ?? 'participant',
      jid: item?.attrs.jid,
      occupantId: s.getChild('occupant-id', 'urn:xmpp:occupant-id:0')?.attrs.id,
    };
    this.roster.set(nick, user);
    if (known || !this.online) return;
    if (this.renames.delete(nick)) return;
    for (const h of this.handlers) h.joined?.(user);
  }

  private onMessage(s: Element): void {
    if (s.attrs.type !== 'groupchat' || !this.online) return;
    const from = s.attrs.from ?? '';
    if (from === this.nickJid || !from.startsWith(`${this.roomJid}/`)) return;
    if (s.getChild('delay', 'urn:xmpp:delay')) return;
    const body = s.getChildText('body');
    if (!body) return;
    const user = this.roster.get(from.slice(this.roomJid.length + 1));
    if (!user) return;
    const sid = s.getChildren('stanza-id', 'urn:xmpp:sid:0').find((c) => c.attrs.by === this.roomJid)?.attrs.id;
    const m: IncomingMessage = { stanza: s, body, user, stanzaId: sid };
    for (const h of this.handlers) h.message?.(m);
    if (body.startsWith('!')) {
      const name = body.split(/\s+/)[0].slice(1);
      if (name) for (const h of this.handlers) h.command?.(name, m);
    }
  }
}
