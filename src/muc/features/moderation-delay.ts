// Moderation delay (livechat's muc#roomconfig_moderation_delay, 0–60 s): a participant's message reaches its sender
// and the moderators at once, and everyone else N seconds later (same stanza, same stanza-id), so moderators can
// retract it before the audience sees it. The moderators' copy carries <moderation-delay delay= waiting=/>
// (waiting: Unix time in seconds when others get it), which livechat's front-end shows. A moderation retraction
// within the window cancels the delayed delivery. Like livechat, changing it sends no 104.
import { el, cloneElement } from '../../xmpp/xml.js';
import { PreparedStanza } from '../../xmpp/prepared.js';
import { StanzaError } from '../../xmpp/errors.js';
import type { GroupchatOutEvent, Room } from '../room.js';
import type { FeatureContext } from './util.js';

const FIELD = 'muc#roomconfig_moderation_delay';
const KEY = 'moderationDelay';
export const MAX_MODERATION_DELAY = 60;

export function moderationDelay(room: Room): number {
  const v = room.config[KEY];
  return typeof v === 'number' && v > 0 ? Math.min(v, MAX_MODERATION_DELAY) : 0;
}

export function install({ hooks }: FeatureContext): void {
  /** Room → stanza-id → timer of a delivery still held back. */
  const pending = new WeakMap<Room, Map<string, NodeJS.Timeout>>();
  const held = new WeakSet<GroupchatOutEvent>();

  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push({
        var: FIELD,
        type: 'text-single',
        values: [String(moderationDelay(room))],
        label:
          'Moderation delay (0=disabled, any positive integer= messages will be delayed for X seconds for non-moderator participants.)',
      });
    },
    13,
  );
  hooks.on('config-submitted', (ev) => {
    const raw = ev.fields.get(FIELD)?.[0];
    if (raw === undefined) return;
    if (!/^\s*-?\d{1,9}\s*$/.test(raw))
      throw new StanzaError('bad-request', `${FIELD} must be a whole number of seconds (0-60)`, 'modify');
    ev.room.config[KEY] = Math.min(Math.max(0, Number(raw)), MAX_MODERATION_DELAY);
  });
  hooks.on('disco-info', ({ room, fields }) => {
    const d = moderationDelay(room);
    fields.push({ var: 'muc#roominfo_moderation_delay', values: d ? [String(d)] : [] });
  });

  // Runs after stanza-id (-100) and occupant-id decorated the copy: the immediate broadcast goes to the sender only.
  hooks.on(
    'groupchat-out',
    (ev) => {
      if (!moderationDelay(ev.room) || !ev.stanza.getChild('body') || !ev.stanza.attrs.id) return;
      // A participant's reflection goes out as usual; a moderator's is the tagged copy like every moderator's.
      const sender = ev.occupant;
      ev.recipients = sender.role === 'moderator' ? () => false : (o) => o === sender;
      held.add(ev);
    },
    -200,
  );

  hooks.on('groupchat-sent', (ev) => {
    if (!held.has(ev)) return;
    const { room, occupant: sender, stanza } = ev;
    const delay = moderationDelay(room);
    const tagged = cloneElement(stanza);
    tagged.append(
      el('moderation-delay', { delay: String(delay), waiting: String(Math.floor(Date.now() / 1000 + delay)) }),
    );
    const taggedP = new PreparedStanza(tagged);
    room.broadcast(taggedP, (o) => o.role === 'moderator' && o !== sender);
    if (sender.role === 'moderator') {
      // The sender's copy is its receipt: like any reflection, only once the message is durable.
      const durable = ev.stanzaId !== undefined ? room.host.archive.whenDurable?.(room.jid, ev.stanzaId) : null;
      const reflect = () => {
        for (const s of sender.sessions.values())
          if (room.bySession.get(s.full) === sender) room.deliverToSession(s, taggedP);
      };
      if (durable) durable.then(reflect, () => undefined);
      else reflect();
    }
    const later = new PreparedStanza(stanza);
    const sid = ev.stanzaId;
    const timer = setTimeout(() => {
      if (sid !== undefined) pending.get(room)?.delete(sid);
      if (room.destroyed) return;
      // Roles are read now: whoever became a moderator meanwhile already has it.
      room.broadcast(later, (o) => o.role !== 'moderator' && o.bareJid !== sender.bareJid);
    }, delay * 1000);
    timer.unref();
    if (sid !== undefined) {
      let m = pending.get(room);
      if (!m) pending.set(room, (m = new Map()));
      m.set(sid, timer);
    }
  });

  hooks.on('moderate-message', ({ room, stanzaId }) => {
    const m = pending.get(room);
    const t = m?.get(stanzaId);
    if (t) {
      clearTimeout(t);
      m!.delete(stanzaId);
    }
  });
  hooks.on('destroyed', ({ room }) => {
    for (const t of pending.get(room)?.values() ?? []) clearTimeout(t);
    pending.delete(room);
  });
}
