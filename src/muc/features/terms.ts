// Terms of the chat, on livechat's wire (mod_muc_peertubelivechat_terms): the service-wide terms and the room's own
// are sent to every new session from room/<terms nickname> with <x-livechat-terms type=global|muc>, a <delay/>
// (bots skip delayed messages) and no-store hints, so they never reach history or the archive. The nickname is
// reserved and occupants cannot forge the marker.
import { StanzaError } from '../../xmpp/errors.js';
import { PreparedStanza } from '../../xmpp/prepared.js';
import { el, type Element } from '../../xmpp/xml.js';
import { newStanzaId } from '../archive.js';
import type { Room } from '../room.js';
import { MUC_NS } from '../types.js';
import type { FeatureContext } from './util.js';

const HINTS = 'urn:xmpp:hints';
const TAG = 'x-livechat-terms';

export function roomTerms(room: Room): string | undefined {
  const t = room.data.terms;
  return typeof t === 'string' && t !== '' ? t : undefined;
}

function termsMessage(room: Room, nick: string, type: 'global' | 'muc', text: string): Element {
  const from = room.nickJid(nick);
  return el(
    'message',
    { type: 'groupchat', from, id: newStanzaId() },
    el('body', {}, text),
    el(TAG, { type }),
    el('delay', { xmlns: MUC_NS.DELAY, from, stamp: new Date().toISOString() }),
    el('no-copy', { xmlns: HINTS }),
    el('no-store', { xmlns: HINTS }),
    el('no-permanent-store', { xmlns: HINTS }),
  );
}

/** Sets (or with '' clears) a room's terms; new terms are shown to everyone present. False when unchanged. */
export function setRoomTerms(room: Room, nick: string, text: string): boolean {
  const next = text === '' ? undefined : text;
  if (roomTerms(room) === next) return false;
  if (next === undefined) delete room.data.terms;
  else room.data.terms = next;
  room.host.persist(room);
  if (next !== undefined) room.broadcast(new PreparedStanza(termsMessage(room, nick, 'muc', next)));
  return true;
}

export function install({ hooks, config }: FeatureContext): void {
  const nick = config.termsNickname;
  hooks.on(
    'join',
    ({ room, session }) => {
      if (!session) return;
      if (config.terms)
        room.deliverToSession(session, new PreparedStanza(termsMessage(room, nick, 'global', config.terms)));
      const own = roomTerms(room);
      if (own) room.deliverToSession(session, new PreparedStanza(termsMessage(room, nick, 'muc', own)));
    },
    4,
  ); // after the subject and the running poll, as livechat orders them

  const reserved = (wanted: string) => {
    if (wanted === nick) throw new StanzaError('conflict', undefined, 'cancel');
  };
  hooks.on('pre-join', ({ nick: wanted }) => reserved(wanted), 50);
  hooks.on('pre-nick-change', ({ newNick }) => reserved(newNick), 50);

  hooks.on(
    'groupchat',
    ({ stanza }) => {
      stanza.children = stanza.children.filter((c) => typeof c === 'string' || c.name !== TAG);
    },
    1000,
  );
}
