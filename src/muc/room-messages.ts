// Messages through the room: groupchat relay (held for the sender until archived), messages from the room itself,
// private messages between occupants, and non-groupchat messages to the room handed to features.
import { performance } from 'node:perf_hooks';
import { el, type Element } from '../xmpp/xml.js';
import type { JID } from '../xmpp/jid.js';
import { StanzaError } from '../xmpp/errors.js';
import { PreparedStanza } from '../xmpp/prepared.js';
import { isArchivable } from './archive.js';
import type { Occupant } from './occupant.js';
import { MUC_NS } from './types.js';
import type { GroupchatOutEvent } from './events.js';
import type { Room } from './room.js';

/** Whether a groupchat message belongs in history and the archive. */
export function isHistoric(stanza: Element): boolean {
  return isArchivable(stanza); // XEP-0313/0334 rules: body, subject, store hint, retractions…; never no-store
}

export class RoomMessages {
  constructor(private readonly room: Room) {}

  onMessage(stanza: Element, from: JID, to: JID): void {
    const type = stanza.attrs.type ?? 'normal';
    const occ = this.room.bySession.get(from.toString());
    if (type === 'error') {
      return; // errors about messages we relayed: nothing to answer
    }
    if (to.resource) {
      this.privateMessage(stanza, to.resource, occ);
      return;
    }
    if (type !== 'groupchat') {
      if (!this.room.hooks.fire('room-message', { room: this.room, stanza, from, occupant: occ })) {
        if (type !== 'normal' || stanza.getChild('body')) throw new StanzaError('bad-request', undefined, 'modify');
      }
      return;
    }
    if (!occ) throw new StanzaError('not-acceptable', 'You are not currently connected to this chat', 'cancel');
    if (occ.role === 'none') throw new StanzaError('forbidden', undefined, 'auth');
    if (this.room.hooks.fire('groupchat', { room: this.room, occupant: occ, stanza, from })) return;
    this.broadcastGroupchat(occ, stanza);
  }

  /** Relays a groupchat message from an occupant to everyone (after the `groupchat` hooks accepted it). */
  broadcastGroupchat(occ: Occupant, stanza: Element): GroupchatOutEvent {
    const out = el('message', {
      from: this.room.nickJid(occ.nick),
      type: 'groupchat',
      id: stanza.attrs.id,
      'xml:lang': stanza.attrs['xml:lang'],
    });
    for (const c of stanza.children) {
      if (typeof c === 'string') continue;
      const ns = c.attrs.xmlns;
      // Never relay a client's claim to a room-assigned id or occupant-id (XEP-0359 §3, XEP-0421 §4).
      if (c.name === 'stanza-id' && ns === MUC_NS.SID && c.attrs.by === this.room.jid) continue;
      if (c.name === 'occupant-id' && ns === MUC_NS.OCCUPANT_ID) continue;
      out.append(c);
    }
    const ev: GroupchatOutEvent = {
      room: this.room,
      occupant: occ,
      stanza: out,
      original: stanza,
      historic: isHistoric(stanza),
    };
    this.room.hooks.fire('groupchat-out', ev);
    const observe = this.room.host.observeFanout;
    const t0 = observe ? performance.now() : 0;
    const p = new PreparedStanza(out);
    const durable = ev.stanzaId !== undefined ? this.room.host.archive.whenDurable?.(this.room.jid, ev.stanzaId) : null;
    if (durable) {
      // The reflection is the sender's receipt: it waits until the message is on disk (one batch); the others
      // get it at once. A message whose reflection reached its sender is never lost by a crash.
      this.room.broadcast(p, (o) => o !== occ && (!ev.recipients || ev.recipients(o)));
      durable.then(
        () => {
          if (ev.recipients && !ev.recipients(occ)) return;
          for (const s of occ.sessions.values())
            if (this.room.bySession.get(s.full) === occ) this.room.deliverToSession(s, p);
          this.room.flushGone();
        },
        () => undefined,
      ); // the room was deleted meanwhile
    } else {
      this.room.broadcast(p, ev.recipients);
    }
    // Serialization and the writes to every occupant's socket (the sender's reflection may still wait for the disk).
    if (observe) observe((performance.now() - t0) / 1000, this.room.occupants.size);
    this.room.hooks.fire('groupchat-sent', ev);
    return ev;
  }

  /** A message from the room itself (status codes, retractions) to every occupant. */
  broadcastRoomMessage(children: Element[], attrs: Record<string, string> = {}): void {
    const m = el('message', { from: this.room.jid, type: 'groupchat', ...attrs }, ...children);
    this.room.broadcast(new PreparedStanza(m));
  }

  privateMessage(stanza: Element, nick: string, occ: Occupant | undefined): void {
    const type = stanza.attrs.type ?? 'normal';
    if (!occ) throw new StanzaError('not-acceptable', 'You are not currently connected to this chat', 'cancel');
    if (type === 'groupchat')
      throw new StanzaError('bad-request', 'Private messages must not be of type groupchat', 'modify');
    const target = this.room.occupants.get(nick);
    if (!target) throw new StanzaError('item-not-found', 'Recipient not in room', 'cancel');
    this.room.hooks.fire('private-message', { room: this.room, occupant: occ, target, stanza });
    const out = el('message', { ...stanza.attrs, from: this.room.nickJid(occ.nick), to: undefined, xmlns: undefined });
    for (const c of stanza.children)
      if (typeof c !== 'string' && !(c.name === 'x' && c.attrs.xmlns === MUC_NS.USER)) out.append(c);
    out.append(el('x', { xmlns: MUC_NS.USER }));
    this.room.deliver(target, new PreparedStanza(out));
  }
}
