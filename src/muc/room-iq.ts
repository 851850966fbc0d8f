// Iqs to the room: handlers features register on the room's bare JID (RoomIqRoutes), and iqs to an occupant's
// nick, forwarded with the sender hidden and their replies routed back.
import { el, type Element } from '../xmpp/xml.js';
import type { JID } from '../xmpp/jid.js';
import { StanzaError } from '../xmpp/errors.js';
import type { Occupant } from './occupant.js';
import { MUC_NS } from './types.js';
import type { Room } from './room.js';
import { bareString } from '../xmpp/jid.js';

export interface RoomIqContext {
  room: Room;
  stanza: Element;
  payload: Element;
  from: JID;
  occupant?: Occupant;
  /** Sends the result now (when later stanzas must follow it); the handler's return value is then ignored. */
  reply(payload?: Element): void;
}
export type RoomIqHandler = (ctx: RoomIqContext) => Element | void | Promise<Element | void>;

export class RoomIqRoutes {
  private map = new Map<string, RoomIqHandler>();
  register(name: string, xmlns: string, type: 'get' | 'set', h: RoomIqHandler): void {
    const k = `${type} ${name} ${xmlns}`;
    if (this.map.has(k)) throw new Error(`room iq ${k} registered twice`);
    this.map.set(k, h);
  }
  find(type: string, payload: Element): RoomIqHandler | undefined {
    return this.map.get(`${type} ${payload.name} ${payload.attrs.xmlns ?? ''}`);
  }
}

export class RoomIq {
  private pendingIq = new Map<string, { from: string; id: string; to: string }>();
  private iqCounter = 0;

  constructor(private readonly room: Room) {}

  onIq(stanza: Element, from: JID, to: JID): void {
    const type = stanza.attrs.type;
    const occ = this.room.bySession.get(from.toString());
    if (to.resource) {
      this.occupantIq(stanza, from, to.resource, occ);
      return;
    }
    if (type !== 'get' && type !== 'set') return;
    const payload = stanza.getChildElements()[0];
    if (!payload) throw new StanzaError('bad-request', undefined, 'modify');
    const handler = this.room.host.iq.find(type, payload);
    if (!handler) throw new StanzaError('service-unavailable', undefined, 'cancel');
    let replied = false;
    const reply = (r?: Element) => {
      if (replied) return;
      replied = true;
      this.room.router.route(
        el('iq', { type: 'result', id: stanza.attrs.id, from: this.room.jid, to: from.toString() }, r),
      );
    };
    let result: Element | void | Promise<Element | void>;
    try {
      result = handler({ room: this.room, stanza, payload, from, occupant: occ, reply });
    } catch (err) {
      if (err instanceof StanzaError) {
        this.room.bounce(stanza, err);
        return;
      }
      throw err;
    }
    Promise.resolve(result).then(
      (r) => {
        reply(r ?? undefined);
        this.room.flushGone();
      },
      (err: unknown) => {
        if (err instanceof StanzaError) this.room.bounce(stanza, err);
        else {
          this.room.host.log.error(`muc iq handler failed: ${(err as Error)?.stack ?? err}`);
          this.room.bounce(stanza, new StanzaError('internal-server-error'));
        }
      },
    );
  }

  /** Iqs to room/nick: features first (self-ping), else forwarded to the occupant with the sender hidden. */
  occupantIq(stanza: Element, from: JID, nick: string, sender: Occupant | undefined): void {
    const type = stanza.attrs.type;
    const target = this.room.occupants.get(nick);
    const payload = stanza.getChildElements()[0];
    if (type === 'result' || type === 'error') {
      this.iqReply(stanza, from);
      return;
    }
    if (this.room.hooks.fire('occupant-iq', { room: this.room, stanza, from, payload, sender, target })) return;
    if (!sender) throw new StanzaError('not-acceptable', 'You are not currently connected to this chat', 'cancel');
    if (!target) throw new StanzaError('item-not-found', undefined, 'cancel');
    // vCards belong to the account, not the session (XEP-0045 §17.3).
    const toJid =
      payload?.name === 'vCard' && payload.attrs.xmlns === MUC_NS.VCARD ? target.bareJid : target.primary.full;
    const id = `muc${++this.iqCounter}`;
    if (this.pendingIq.size > 1000) this.pendingIq.delete(this.pendingIq.keys().next().value as string);
    this.pendingIq.set(id, { from: from.toString(), id: stanza.attrs.id ?? '', to: nick });
    const fwd = el('iq', { type, id, from: this.room.nickJid(sender.nick), to: toJid }, ...stanza.getChildElements());
    this.room.router.route(fwd);
  }

  iqReply(stanza: Element, from: JID): void {
    const pending = this.pendingIq.get(stanza.attrs.id ?? '');
    if (!pending) return;
    this.pendingIq.delete(stanza.attrs.id!);
    const target = this.room.occupants.get(pending.to);
    const fromNick =
      target && target.bareJid === bareString(from) ? this.room.nickJid(target.nick) : this.room.nickJid(pending.to);
    const reply = el(
      'iq',
      { type: stanza.attrs.type, id: pending.id, from: fromNick, to: pending.from },
      ...stanza.getChildElements(),
    );
    this.room.router.route(reply);
  }
}
