// A pinned message: a moderator pins one room message by its stanza-id; everyone present, and every later joiner
// after the subject, gets it shown as pinned (the original forwarded, XEP-0297) until a moderator unpins it or pins
// another, or the message is moderated away. Kept in room.data, so it survives a restart; the notices themselves
// are not archived.
//   <iq type='set'><pin xmlns='urn:livechat-xmpp:muc-pin:0' id='stanza-id'/></iq>  /  <unpin xmlns='…'/>
//   → <message type='groupchat' from='room'><pinned xmlns='…' id by stamp><forwarded>…</forwarded></pinned></message>
//   → <message type='groupchat' from='room'><unpinned xmlns='…' id by/></message>
import { parse } from 'ltx';
import { StanzaError } from '../../xmpp/errors.js';
import { PreparedStanza } from '../../xmpp/prepared.js';
import { el, type Element } from '../../xmpp/xml.js';
import { newStanzaId, type ArchiveEntry } from '../archive.js';
import type { Room } from '../room.js';
import { MUC_NS } from '../types.js';
import type { FeatureContext } from './util.js';

export const PIN_NS = 'urn:livechat-xmpp:muc-pin:0';
const HINTS = 'urn:xmpp:hints';

interface Pinned {
  id: string;
  by: string;
  at: number;
  xml: string;
}

function notice(room: Room, child: Element): Element {
  return el(
    'message',
    { from: room.jid, type: 'groupchat', id: newStanzaId() },
    child,
    el('no-store', { xmlns: HINTS }),
    el('no-copy', { xmlns: HINTS }),
  );
}

function pinnedNotice(room: Room, p: Pinned): Element {
  return notice(
    room,
    el(
      'pinned',
      { xmlns: PIN_NS, id: p.id, by: p.by, stamp: new Date(p.at).toISOString() },
      el('forwarded', { xmlns: 'urn:xmpp:forward:0' }, parse(p.xml) as Element),
    ),
  );
}

function requireModerator(room: Room, nick: string | undefined): asserts nick is string {
  if (!nick || room.occupants.get(nick)?.role !== 'moderator') throw new StanzaError('forbidden', undefined, 'auth');
}

export function install({ hooks, iq, archive }: FeatureContext): void {
  iq.register('pin', PIN_NS, 'set', ({ room, payload, occupant }) => {
    requireModerator(room, occupant?.nick);
    const id = payload.attrs.id;
    if (!id) throw new StanzaError('bad-request', 'The stanza-id of the message is required', 'modify');
    const apply = (entry: ArchiveEntry | undefined) => {
      if (!entry || entry.stanza.getChild('retracted', MUC_NS.RETRACT_1))
        throw new StanzaError('item-not-found', undefined, 'cancel');
      const p: Pinned = { id, by: occupant!.nick, at: Date.now(), xml: entry.stanza.toString() };
      room.data.pinned = p;
      room.host.persist(room);
      room.broadcast(new PreparedStanza(pinnedNotice(room, p)));
    };
    const entry = archive.get(room.jid, id);
    if (entry || !archive.lookup) return apply(entry);
    return archive.lookup(room.jid, id).then(apply);
  });

  iq.register('unpin', PIN_NS, 'set', ({ room, occupant }) => {
    requireModerator(room, occupant?.nick);
    const p = room.data.pinned as Pinned | undefined;
    if (!p) throw new StanzaError('item-not-found', 'Nothing is pinned', 'cancel');
    delete room.data.pinned;
    room.host.persist(room);
    room.broadcast(new PreparedStanza(notice(room, el('unpinned', { xmlns: PIN_NS, id: p.id, by: occupant!.nick }))));
  });

  // A moderated (retracted) message cannot stay pinned.
  hooks.on(
    'moderate-message',
    ({ room, stanzaId }) => {
      const p = room.data.pinned as Pinned | undefined;
      if (p?.id !== stanzaId) return;
      delete room.data.pinned;
      room.host.persist(room);
      room.broadcast(
        new PreparedStanza(notice(room, el('unpinned', { xmlns: PIN_NS, id: p.id, reason: 'retracted' }))),
      );
    },
    -10,
  );

  hooks.on(
    'join',
    ({ room, session }) => {
      const p = room.data.pinned as Pinned | undefined;
      if (session && p) room.deliverToSession(session, new PreparedStanza(pinnedNotice(room, p)));
    },
    3,
  );

  hooks.on('disco-info', ({ features }) => {
    features.add(PIN_NS);
  });
}
