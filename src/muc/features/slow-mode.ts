// Slow mode (livechat's muc#roomconfig_slow_mode_duration): a participant may send one message with a body every
// N seconds (0 = off); a message sooner bounces with wait/policy-violation to its sender alone. Counted per real
// bare JID, so rejoining or a second tab does not reset it; moderators are exempt. Announced in disco as
// muc#roominfo_slow_mode_duration, which livechat's front-end reads to show the delay.
import { StanzaError } from '../../xmpp/errors.js';
import type { Room } from '../room.js';
import type { FeatureContext } from './util.js';

const FIELD = 'muc#roomconfig_slow_mode_duration';
const KEY = 'slowModeDuration';
const PRUNE_AT = 2000;

export function slowModeDuration(room: Room): number {
  const v = room.config[KEY];
  return typeof v === 'number' && v > 0 ? v : 0;
}

export function install({ hooks }: FeatureContext): void {
  /** Room → real bare JID → time of its last accepted message (ms). */
  const last = new WeakMap<Room, Map<string, number>>();

  hooks.on(
    'config-form',
    ({ room, fields }) => {
      fields.push({
        var: FIELD,
        type: 'text-single',
        values: [String(slowModeDuration(room))],
        label: 'Slow Mode (0=disabled, any positive integer= users can send a message every X seconds.)',
      });
    },
    12,
  );
  hooks.on('config-submitted', (ev) => {
    const raw = ev.fields.get(FIELD)?.[0];
    if (raw === undefined) return;
    if (!/^\s*-?\d{1,9}\s*$/.test(raw))
      throw new StanzaError('bad-request', `${FIELD} must be a whole number of seconds`, 'modify');
    const v = Math.max(0, Number(raw));
    if (v === slowModeDuration(ev.room)) return;
    ev.room.config[KEY] = v;
    last.delete(ev.room);
    ev.codes.add('104');
  });
  hooks.on('disco-info', ({ room, fields }) => {
    fields.push({ var: 'muc#roominfo_slow_mode_duration', values: [String(slowModeDuration(room))] });
  });

  hooks.on(
    'groupchat',
    ({ room, occupant, stanza }) => {
      const duration = slowModeDuration(room);
      if (duration === 0 || occupant.role === 'moderator' || !stanza.getChildText('body')) return;
      let seen = last.get(room);
      if (!seen) last.set(room, (seen = new Map()));
      const now = Date.now();
      const prev = seen.get(occupant.bareJid);
      if (prev === undefined || now - prev > duration * 1000) {
        seen.set(occupant.bareJid, now);
        // Anonymous viewers come and go with new JIDs: forget those whose window has passed.
        if (seen.size > PRUNE_AT) for (const [jid, ts] of seen) if (now - ts > duration * 1000) seen.delete(jid);
        return;
      }
      throw new StanzaError(
        'policy-violation',
        `You have exceeded the limit imposed by the slow mode in this room: one message every ${duration} seconds. Please try again later.`,
        'wait',
      );
    },
    40,
  );
}
