// Visible occupants: a live-stream room without the O(N²) presence storm of "everyone sees everyone". Above a size
// (mode 'auto', muc.visibleOccupants.threshold) or always (mode 'speakers'), a viewer who joins without a role above
// participant or an affiliation is *quiet*: its join, nick changes, presence updates and leave reach only itself and
// the moderators (who still see everyone and can act on anyone). Just before a quiet occupant's first groupchat
// message goes out, its presence is broadcast, so no client ever gets a message from an occupant it has not seen;
// after speakerTimeout seconds of silence, or when more than maxSpeakers are visible that way (least recent first),
// an unavailable presence withdraws it again. Everyone else is announced as usual, so small rooms are untouched.
// A joiner receives the visible occupants only. Mode 'all' is standard MUC; the owner picks the mode per room
// (muc#roomconfig_x_livechat_presence_mode), the server config sets the default. The viewer count for those who
// cannot see everyone is occupant-count.ts's (it asks hidesOccupants()).
import { StanzaError } from '../../xmpp/errors.js';
import { PreparedStanza } from '../../xmpp/prepared.js';
import type { Occupant } from '../occupant.js';
import type { Room } from '../room.js';
import { PRESENCE_MODES, type PresenceMode, type VisibleOccupantsConfig } from '../config.js';
import type { FeatureContext } from './util.js';

const FIELD = 'muc#roomconfig_x_livechat_presence_mode';
const INFO_FIELD = 'muc#roominfo_x_livechat_presence_mode';
const KEY = 'presenceMode';

interface State {
  /** Occupants heard only by themselves and moderators. */
  quiet: Set<Occupant>;
  /** Formerly quiet occupants visible because they spoke, least recent first → time of their last message (ms). */
  speakers: Map<Occupant, number>;
  /** An occupant about to appear (a join or a nick moving a session) that must start quiet: adopted on first sight. */
  pending?: { bare: string; nick: string };
  timer?: NodeJS.Timeout;
  /** Everyone announced to all (the not quiet), for joiners' rosters; may hold some who left (skipped). */
  shown: Set<Occupant>;
  /** Moderators (who see the quiet ones), for quiet occupants' presences; may hold former ones (re-checked). */
  watchers: Set<Occupant>;
}

const states = new WeakMap<Room, State>();

export function presenceMode(room: Room): PresenceMode {
  const v = room.config[KEY];
  return PRESENCE_MODES.includes(v as PresenceMode) ? (v as PresenceMode) : room.host.config.visibleOccupants.mode;
}

/** Whether some occupants of this room are, or will be, hidden from ordinary viewers (they get a counter instead). */
export function hidesOccupants(room: Room): boolean {
  return states.has(room) && presenceMode(room) !== 'all';
}

/** Moderators see every presence (MucConfig.moderatorsSeeAllPresences), quiet ones included. */
const watches = (room: Room, o: Occupant): boolean =>
  o.role === 'moderator' && room.host.config.moderatorsSeeAllPresences;

const privileged = (room: Room, o: Occupant): boolean => {
  if (o.role === 'moderator') return true;
  const a = room.affiliationOf(o.bareJid);
  return a === 'owner' || a === 'admin' || a === 'member';
};

function adopt(st: State, occ: Occupant): void {
  const p = st.pending!;
  if (occ.nick !== p.nick || occ.bareJid !== p.bare) return;
  st.quiet.add(occ);
  st.pending = undefined;
}

/** The room's state, created with the first quiet joiner; it installs the room's visibility rule. */
function stateOf(room: Room): State {
  const have = states.get(room);
  if (have) return have;
  // Until now the room hid nobody: every occupant is shown (one walk, when the room first turns quiet joiners away).
  const st: State = { quiet: new Set(), speakers: new Map(), shown: new Set(), watchers: new Set() };
  for (const o of room.occupants.values()) {
    st.shown.add(o);
    if (o.role === 'moderator') st.watchers.add(o);
  }
  states.set(room, st);
  room.presence.visibility = (occ, recipient) => {
    if (st.pending) adopt(st, occ);
    return !st.quiet.has(occ) || watches(room, recipient) || privileged(room, occ);
  };
  // Every occupant that arrives (a join, a session moving to a new nick) or changes is published: that is where it
  // is filed as shown or not, and as a moderator or not.
  room.presence.index = {
    audienceOf: (occ) => {
      if (st.pending) adopt(st, occ);
      if (occ.role === 'moderator') st.watchers.add(occ);
      if (!hidden(room, st, occ)) {
        st.shown.add(occ);
        return undefined;
      }
      st.shown.delete(occ);
      return room.host.config.moderatorsSeeAllPresences ? st.watchers : [];
    },
    shownTo: (recipient) => (watches(room, recipient) ? undefined : st.shown),
  };
  return st;
}

const hidden = (room: Room, st: State, occ: Occupant): boolean => st.quiet.has(occ) && !privileged(room, occ);

export function install({ hooks, config }: FeatureContext): void {
  const cfg: VisibleOccupantsConfig = config.visibleOccupants;

  /** Withdraws a speaker from those who are not moderators; it is quiet again. */
  function silence(room: Room, st: State, occ: Occupant): void {
    st.speakers.delete(occ);
    room.presence.publish(occ, {
      type: 'unavailable',
      role: 'none',
      payload: [],
      selfSessions: [],
      to: (o) => !watches(room, o),
    });
    st.quiet.add(occ);
    st.shown.delete(occ);
  }

  function sweep(room: Room, st: State): void {
    st.timer = undefined;
    if (room.destroyed) return;
    const cutoff = Date.now() - cfg.speakerTimeout * 1000;
    for (const [occ, ts] of st.speakers) {
      if (ts > cutoff) break;
      silence(room, st, occ);
    }
    room.flushGone();
    schedule(room, st);
  }

  function schedule(room: Room, st: State): void {
    if (st.timer) return;
    const first = st.speakers.values().next();
    if (first.done) return;
    const wait = Math.max(0, first.value + cfg.speakerTimeout * 1000 - Date.now()) + 20;
    st.timer = setTimeout(() => sweep(room, st), wait).unref();
  }

  function stop(st: State): void {
    if (st.timer) clearTimeout(st.timer);
    st.timer = undefined;
  }

  // Classify a new occupant last, once other features have settled its role (moderated, mute anonymous).
  hooks.on(
    'pre-join',
    ({ room, bareJid, nick, role, affiliation }) => {
      if (room.occupants.has(nick)) return; // another session of an occupant already classified
      const mode = presenceMode(room);
      if (mode === 'all' || (mode === 'auto' && room.occupants.size < cfg.threshold)) return;
      if (role === 'moderator' || affiliation === 'owner' || affiliation === 'admin' || affiliation === 'member')
        return;
      stateOf(room).pending = { bare: bareJid, nick };
    },
    -1000,
  );
  hooks.on(
    'join',
    ({ room, occupant }) => {
      const st = states.get(room);
      if (st?.pending && occupant) adopt(st, occupant); // nobody else was there to see it
    },
    50,
  );
  hooks.on('pre-nick-change', ({ room, occupant, newNick }) => {
    const st = states.get(room);
    // A session moving away from a multi-session occupant becomes a new occupant: it stays quiet if it was.
    if (st && hidden(room, st, occupant) && occupant.sessions.size > 1 && !room.occupants.has(newNick)) {
      st.pending = { bare: occupant.bareJid, nick: newNick };
    }
  });
  hooks.on('leave', ({ room, occupant }) => {
    const st = states.get(room);
    if (!st) return;
    st.quiet.delete(occupant);
    st.speakers.delete(occupant);
    st.shown.delete(occupant);
    st.watchers.delete(occupant);
  });

  // Announce on first word, before the message itself leaves.
  hooks.on(
    'groupchat-out',
    ({ room, occupant }) => {
      const st = states.get(room);
      if (!st) return;
      const now = Date.now();
      if (st.speakers.delete(occupant)) {
        st.speakers.set(occupant, now);
        return;
      }
      if (!st.quiet.delete(occupant)) return;
      if (privileged(room, occupant)) return; // already announced when it got its role or affiliation
      st.speakers.set(occupant, now);
      room.presence.publish(occupant, { selfSessions: [], to: (o) => !watches(room, o) });
      while (st.speakers.size > cfg.maxSpeakers) silence(room, st, st.speakers.keys().next().value as Occupant);
      schedule(room, st);
    },
    100,
  );

  // A promoted occupant was announced to everyone by its role change: it stays visible. A new moderator gets the
  // quiet occupants it could not see; a former one is told they are gone from its view.
  hooks.on('role-changed', ({ room, occupant, oldRole }) => {
    const st = states.get(room);
    if (!st) return;
    if (occupant.role === 'moderator') st.watchers.add(occupant);
    else st.watchers.delete(occupant);
    if (privileged(room, occupant)) {
      st.quiet.delete(occupant);
      st.speakers.delete(occupant);
      st.shown.add(occupant);
    }
    const before = oldRole === 'moderator' && room.host.config.moderatorsSeeAllPresences;
    const now = watches(room, occupant);
    if (before === now) return;
    for (const q of st.quiet) {
      if (q === occupant || !hidden(room, st, q)) continue;
      if (now) {
        for (const s of occupant.sessions.values()) room.presence.sendTo(q, occupant, s);
      } else {
        const view = room.canSeeJids(occupant) ? 'full' : 'anon';
        room.deliver(
          occupant,
          new PreparedStanza(room.presence.build(q, view, { type: 'unavailable', role: 'none', payload: [] })),
        );
      }
    }
  });
  hooks.on('affiliation-changed', ({ room, bareJid }) => {
    const st = states.get(room);
    if (!st) return;
    for (const occ of room.occupantsOf(bareJid)) {
      if (!privileged(room, occ)) continue;
      st.quiet.delete(occ);
      st.speakers.delete(occ);
      st.shown.add(occ);
    }
  });

  // Back to 'all': everyone hidden is announced (once, as the owner asked for the full list).
  hooks.on('config-changed', ({ room, before }) => {
    const st = states.get(room);
    if (!st || presenceMode(room) !== 'all') return;
    const prev = PRESENCE_MODES.includes(before[KEY] as PresenceMode) ? before[KEY] : cfg.mode;
    if (prev === 'all') return;
    stop(st);
    states.delete(room);
    room.presence.visibility = undefined;
    room.presence.index = undefined;
    for (const occ of st.quiet) {
      if (room.occupants.get(occ.nick) === occ)
        room.presence.publish(occ, { selfSessions: [], to: (o) => !watches(room, o) });
    }
    room.flushGone();
  });
  hooks.on('destroyed', ({ room }) => {
    const st = states.get(room);
    if (st) stop(st);
    states.delete(room);
  });

  hooks.on('config-form', ({ room, fields }) => {
    fields.push({
      var: FIELD,
      type: 'list-single',
      label: 'Who sees whom: everyone, or only moderators, members and recent speakers (auto: above a room size)',
      values: [presenceMode(room)],
      options: [
        { value: 'auto', label: `Automatic (from ${cfg.threshold} occupants)` },
        { value: 'all', label: 'Everyone sees everyone' },
        { value: 'speakers', label: 'Moderators, members and recent speakers' },
      ],
    });
  });
  hooks.on('config-submitted', (ev) => {
    const raw = ev.fields.get(FIELD)?.[0];
    if (raw === undefined) return;
    if (!PRESENCE_MODES.includes(raw as PresenceMode))
      throw new StanzaError('bad-request', `${FIELD} must be one of ${PRESENCE_MODES.join(', ')}`, 'modify');
    if (raw === presenceMode(ev.room) && ev.room.config[KEY] !== undefined) return;
    const changed = raw !== presenceMode(ev.room);
    ev.room.config[KEY] = raw;
    if (changed) ev.codes.add('104');
  });
  hooks.on('disco-info', ({ room, fields }) => {
    fields.push({ var: INFO_FIELD, label: 'Who sees whom', values: [presenceMode(room)] });
  });
}
