// Viewer counter for rooms whose participant list only moderators see (muc#roomconfig_presencebroadcast without
// participant or visitor, with the owner's muc#roomconfig_x_livechat_viewer_counter on; or a room where
// visible-occupants.ts hides quiet viewers, always): everyone who cannot see the whole list gets the number of
// occupants and how many of them are anonymous viewers, on join and, batched, after arrivals and departures. The
// anonymous count is also in disco#info.
//   <message type='groupchat' from='room'><occupants xmlns='urn:livechat-xmpp:muc-occupant-count:0' total anonymous/></message>
import { PreparedStanza } from '../../xmpp/prepared.js';
import { el } from '../../xmpp/xml.js';
import { newStanzaId } from '../archive.js';
import type { Occupant } from '../occupant.js';
import type { Room } from '../room.js';
import type { FeatureContext } from './util.js';
import { boolField, submitBool } from './util.js';
import { hidesOccupants } from './visible-occupants.js';

const FIELD = 'muc#roomconfig_x_livechat_viewer_counter';
const KEY = 'viewerCounter';

export const COUNT_NS = 'urn:livechat-xmpp:muc-occupant-count:0';
/** Arrivals and departures within this window give one update (a raid of 1,000 viewers is one message). */
export const COUNT_DEBOUNCE_MS = 2000;

const pending = new WeakMap<Room, NodeJS.Timeout>();

const hidesSome = (room: Room) =>
  hidesOccupants(room) ||
  (room.config[KEY] === true &&
    (!room.config.presenceBroadcast.includes('participant') || !room.config.presenceBroadcast.includes('visitor')));
const seesAll = (room: Room, o: Occupant) => o.role === 'moderator' && room.host.config.moderatorsSeeAllPresences;

/** Kept up to date by the room's occupant map as occupants come, go and change nick: O(1) on every join. */
export function counts(room: Room): { total: number; anonymous: number } {
  return { total: room.occupantCount, anonymous: room.occupants.anonymous };
}

function counter(room: Room): PreparedStanza {
  const c = counts(room);
  return new PreparedStanza(
    el(
      'message',
      { from: room.jid, type: 'groupchat', id: newStanzaId() },
      el('occupants', { xmlns: COUNT_NS, total: String(c.total), anonymous: String(c.anonymous) }),
      el('no-store', { xmlns: 'urn:xmpp:hints' }),
      el('no-copy', { xmlns: 'urn:xmpp:hints' }),
    ),
  );
}

function scheduleUpdate(room: Room): void {
  if (pending.has(room) || !hidesSome(room)) return;
  pending.set(
    room,
    setTimeout(() => {
      pending.delete(room);
      if (room.destroyed || !hidesSome(room)) return;
      room.broadcast(counter(room), (o) => !seesAll(room, o));
    }, COUNT_DEBOUNCE_MS).unref(),
  );
}

export function install({ hooks }: FeatureContext): void {
  hooks.on(
    'join',
    ({ room, occupant, session, resync }) => {
      if (!session || !occupant || !hidesSome(room)) return;
      if (!seesAll(room, occupant)) room.deliverToSession(session, counter(room));
      if (!resync) scheduleUpdate(room);
    },
    2,
  );
  hooks.on('leave', ({ room }) => scheduleUpdate(room));
  hooks.on('config-changed', ({ room }) => scheduleUpdate(room));
  hooks.on('destroyed', ({ room }) => {
    const t = pending.get(room);
    if (t) clearTimeout(t);
    pending.delete(room);
  });
  hooks.on('config-form', ({ room, fields }) => {
    fields.push(
      boolField(
        FIELD,
        'Show the number of viewers to those who cannot see the participant list',
        room.config[KEY] === true,
      ),
    );
  });
  hooks.on('config-submitted', (ev) => {
    submitBool(ev, FIELD, KEY);
  });
  hooks.on('disco-info', ({ room, features, fields }) => {
    if (room.config[KEY] === true || hidesOccupants(room)) features.add(COUNT_NS);
    fields.push({
      var: 'x-livechat#roominfo_anonymous_occupants',
      label: 'Number of anonymous viewers',
      values: [String(counts(room).anonymous)],
      volatile: true,
    });
  });
}
