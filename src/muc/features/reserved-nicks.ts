// Nicknames reserved with an affiliation (the `nick` of a muc#admin item, XEP-0045 §7.10): nobody else may use
// them; an occupant already using a nick that gets reserved for someone else is removed (307).
import { StanzaError } from '../../xmpp/errors.js';
import type { Room } from '../room.js';
import type { FeatureContext } from './util.js';

function reservedBy(room: Room, nick: string): string | undefined {
  for (const [bare, entry] of room.affiliations) if (entry.nick === nick) return bare;
  return undefined;
}

export function install({ hooks }: FeatureContext): void {
  hooks.on(
    'pre-join',
    (ev) => {
      const owner = reservedBy(ev.room, ev.nick);
      if (owner && owner !== ev.bareJid) throw new StanzaError('conflict', undefined, 'cancel');
    },
    70,
  );
  hooks.on('pre-nick-change', ({ room, occupant, newNick }) => {
    const owner = reservedBy(room, newNick);
    if (owner && owner !== occupant.bareJid) throw new StanzaError('conflict', undefined, 'cancel');
  });
  hooks.on('affiliation-changed', ({ room, bareJid, newAffiliation }) => {
    // XEP-0045 §9.1: a ban SHOULD also drop the outcast's reserved nickname (saved with the ban right after).
    if (newAffiliation === 'outcast') {
      const entry = room.affiliations.get(bareJid);
      if (entry) delete entry.nick;
      return;
    }
    const nick = room.affiliations.get(bareJid)?.nick;
    if (!nick) return;
    const holder = room.occupants.get(nick);
    if (holder && holder.bareJid !== bareJid) {
      room.removeOccupant(holder, { codes: ['307'], details: { reason: 'This nickname is reserved' } });
    }
  });
}
