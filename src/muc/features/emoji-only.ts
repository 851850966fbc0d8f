// Emoji-only mode (livechat's muc#roomconfig_x_peertubelivechat_emoji_only_mode): while on, a participant's message
// body must be nothing but emoji — Unicode emoji or the channel's custom :shortnames: — separated by white space;
// anything else bounces with modify/policy-violation to its sender alone. Moderators are exempt; messages without
// a body (chat states, markers) pass. 104 on change; disco feature of the same name while on. The custom shortnames
// are a room setting with no form field (the PeerTube plugin sets them from the channel's emoji list).
import { StanzaError } from '../../xmpp/errors.js';
import type { Room } from '../room.js';
import type { FeatureContext } from './util.js';
import { boolField } from './util.js';
import { asBool } from '../forms.js';

const FIELD = 'muc#roomconfig_x_peertubelivechat_emoji_only_mode';
export const EMOJI_ONLY_FEATURE = 'x_peertubelivechat_emoji_only_mode';
const KEY = 'emojiOnly';
const CUSTOM_KEY = 'customEmojis';
/** A shortname as livechat accepts them: letters, digits, _ and -, optionally between colons. */
const SHORTNAME = /^:?[\w-]+:?$/;
const MAX_CUSTOM = 1000;

export const emojiOnly = (room: Room): boolean => room.config[KEY] === true;

export function customEmojis(room: Room): string[] {
  const v = room.config[CUSTOM_KEY];
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

/** Replaces the room's custom shortnames (e.g. ":peertube:"); throws on an invalid one. The caller persists. */
export function setCustomEmojis(room: Room, shortnames: readonly string[]): void {
  if (shortnames.length > MAX_CUSTOM) throw new Error(`at most ${MAX_CUSTOM} custom emoji, got ${shortnames.length}`);
  for (const s of shortnames)
    if (typeof s !== 'string' || !SHORTNAME.test(s)) throw new Error(`invalid emoji shortname ${JSON.stringify(s)}`);
  room.config[CUSTOM_KEY] = [...new Set(shortnames)];
  matchers.delete(room);
}

// One emoji: a fully-qualified RGI sequence (flags, keycaps, ZWJ families, skin tones), or a lone pictographic
// character sent without its variation selector, as some keyboards do.
const EMOJI = String.raw`(?:\p{RGI_Emoji}|\p{Extended_Pictographic}\uFE0F?|\p{Emoji_Modifier}|\p{Regional_Indicator})`;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const matchers = new WeakMap<Room, RegExp>();

function matcher(room: Room): RegExp {
  let re = matchers.get(room);
  if (!re) {
    const custom = customEmojis(room).map(escape);
    const one = custom.length ? `(?:${EMOJI}|${custom.join('|')})` : EMOJI;
    re = new RegExp(`^\\s*(?:${one}\\s*)+$`, 'iv');
    matchers.set(room, re);
  }
  return re;
}

export function isEmojiOnly(room: Room, body: string): boolean {
  return matcher(room).test(body);
}

export function install({ hooks }: FeatureContext): void {
  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push({
        ...boolField(FIELD, 'Emoji only mode', emojiOnly(room)),
        desc: 'Occupants will only be able to send emoji. This does not affect moderators.',
      });
    },
    10,
  );
  hooks.on('config-submitted', (ev) => {
    const v = asBool(ev.fields.get(FIELD));
    if (v === undefined || v === emojiOnly(ev.room)) return;
    ev.room.config[KEY] = v;
    ev.codes.add('104');
  });
  hooks.on('disco-info', ({ room, features }) => {
    if (emojiOnly(room)) features.add(EMOJI_ONLY_FEATURE);
  });
  hooks.on(
    'groupchat',
    ({ room, occupant, stanza }) => {
      if (!emojiOnly(room) || occupant.role === 'moderator') return;
      const body = stanza.getChildText('body');
      if (!body || isEmojiOnly(room, body)) return;
      throw new StanzaError('policy-violation', 'Emoji only mode enabled', 'modify');
    },
    45,
  );
}
