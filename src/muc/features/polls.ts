// Room polls, on livechat's wire (mod_muc_poll): owners and admins get and submit a `muc#x-poll` form, the room
// announces the poll as a message from its creator carrying <x-poll/>, occupants vote with "!n", results are
// re-announced at most every few seconds, and the end message gives the percentages. The poll lives in room.data,
// so it survives a restart of a persistent room; its timers are per room and never keep the process alive.
import { randomBytes } from 'node:crypto';
import { StanzaError } from '../../xmpp/errors.js';
import { PreparedStanza } from '../../xmpp/prepared.js';
import { el, type Element } from '../../xmpp/xml.js';
import { newStanzaId } from '../archive.js';
import { asBool, buildForm, formType, readForm, type FormField } from '../forms.js';
import type { Room } from '../room.js';
import { MUC_NS } from '../types.js';
import type { FeatureContext } from './util.js';
import { bareString } from '../../xmpp/jid.js';

export const POLL_NS = 'http://jabber.org/protocol/muc#x-poll';
export const POLL_MESSAGE_NS = 'http://jabber.org/protocol/muc#x-poll-message';
const HINTS = 'urn:xmpp:hints';
const POLL_TAGS = new Set(['x-poll', 'x-poll-question', 'x-poll-choice']);
const MAX_CHOICES = 5;
/** Votes are grouped into one update message per this window (flood control). */
export const UPDATE_DEBOUNCE_MS = 5000;
/** An ended poll is kept this long so late "!n" still bounce instead of exposing a choice. */
const PURGE_AFTER_MS = 30_000;

const STR = {
  over: 'This poll is now over.',
  instructions: 'Send a message with an exclamation mark followed by your choice number to vote. Example: !1',
  invalid: 'This choice is not valid.',
  anonymousOk: 'Your vote is taken into account. Votes are anonymous, they will not be shown to other participants.',
};

export interface Poll {
  id: string;
  question: string;
  anonymous: boolean;
  /** Epoch seconds. */
  end: number;
  ended: boolean;
  choices: Array<{ n: string; label: string }>;
  votesByChoice: Record<string, number>;
  /** Voter bare JID → choice. */
  votesByVoter: Record<string, string>;
  creatorNick: string;
  creatorJid: string;
  creatorOccupantId: string;
}

interface Timers {
  end?: NodeJS.Timeout;
  update?: NodeJS.Timeout;
  purge?: NodeJS.Timeout;
}
const timers = new WeakMap<Room, Timers>();
const timersOf = (room: Room): Timers => {
  let t = timers.get(room);
  if (!t) timers.set(room, (t = {}));
  return t;
};
const later = (ms: number, fn: () => void): NodeJS.Timeout => setTimeout(fn, Math.max(0, ms)).unref();

export function currentPoll(room: Room): Poll | undefined {
  return room.data.poll as Poll | undefined;
}

function formFields(): FormField[] {
  const fields: FormField[] = [
    {
      var: 'muc#roompoll_question',
      type: 'text-single',
      label: 'Question',
      desc: 'The poll question.',
      required: true,
      values: [''],
    },
    {
      var: 'muc#roompoll_duration',
      type: 'text-single',
      label: 'Poll duration (in minutes)',
      desc: 'The number of minutes to run the poll.',
      required: true,
      values: [''],
    },
    {
      var: 'muc#roompoll_anonymous',
      type: 'boolean',
      label: 'Anonymous results',
      desc: "By enabling this, user's votes won't be publicly shown in the room.",
      values: ['1'],
    },
  ];
  for (let i = 1; i <= MAX_CHOICES; i++) {
    fields.push({
      var: `muc#roompoll_choice${i}`,
      type: 'text-single',
      label: `Choice ${i}`,
      required: i <= 2,
      values: [''],
    });
  }
  return fields;
}

function requireOwnerOrAdmin(room: Room, bare: string): void {
  const aff = room.affiliationOf(bare);
  if (aff !== 'owner' && aff !== 'admin') throw new StanzaError('forbidden', undefined, 'auth');
}

/** Reads a submitted poll form; a missing or malformed field is a bad-request naming it. */
function parseSubmission(fields: Map<string, string[]>): {
  question: string;
  minutes: number;
  anonymous: boolean;
  choices: Poll['choices'];
} {
  const one = (name: string) => fields.get(name)?.[0];
  const errors: string[] = [];
  const question = one('muc#roompoll_question') ?? '';
  if (!question.trim()) errors.push('muc#roompoll_question: Required value missing');
  const durRaw = (one('muc#roompoll_duration') ?? '').trim();
  const minutes = Number(durRaw);
  if (!/^[+-]?\d+$/.test(durRaw)) errors.push('muc#roompoll_duration: Required value missing or not an integer');
  else if (minutes < 1) errors.push('muc#roompoll_duration: Value is below the minimum of 1');
  const choices: Poll['choices'] = [];
  for (let i = 1; i <= MAX_CHOICES; i++) {
    const label = one(`muc#roompoll_choice${i}`) ?? '';
    if (i <= 2 && !label) errors.push(`muc#roompoll_choice${i}: Required value missing`);
    if (/\S/.test(label)) choices.push({ n: String(i), label });
  }
  if (errors.length) throw new StanzaError('bad-request', errors.join('; '), 'modify');
  return { question, minutes, anonymous: asBool(fields.get('muc#roompoll_anonymous')) === true, choices };
}

function total(p: Poll): number {
  return Object.values(p.votesByChoice).reduce((a, b) => a + b, 0);
}

function bodyText(p: Poll, isEnd: boolean): string {
  let s = `${p.question}\n`;
  if (isEnd) s += `${STR.over}\n`;
  const t = total(p);
  for (const c of p.choices) {
    s += `${c.n}: ${c.label}`;
    if (isEnd && t > 0) {
      const nb = p.votesByChoice[c.n] ?? 0;
      s += ` (${nb}/${t} = ${((nb * 100) / t).toFixed(2)}%)`;
    }
    s += '\n';
  }
  if (!isEnd) s += `${STR.instructions}\n`;
  return s;
}

/** The poll message: with a body for start and end (kept in history), without for updates (not stored). */
function pollMessage(room: Room, p: Poll, body: string | undefined): Element {
  const m = el(
    'message',
    { type: 'groupchat', from: room.nickJid(p.creatorNick), id: newStanzaId() + newStanzaId() },
    body !== undefined ? el('body', {}, body) : undefined,
    el('occupant-id', { xmlns: MUC_NS.OCCUPANT_ID, id: p.creatorOccupantId }),
  );
  if (body === undefined) {
    m.append(el('no-copy', { xmlns: HINTS }));
    m.append(el('no-store', { xmlns: HINTS }));
    m.append(el('no-permanent-store', { xmlns: HINTS }));
  }
  const x = el(
    'x-poll',
    { xmlns: POLL_MESSAGE_NS, id: p.id, votes: String(total(p)), end: String(p.end), over: p.ended ? '' : undefined },
    el('x-poll-question', {}, p.question),
  );
  for (const c of p.choices)
    x.append(el('x-poll-choice', { choice: c.n, votes: String(p.votesByChoice[c.n] ?? 0) }, c.label));
  m.append(x);
  return m;
}

/** Broadcasts a poll message; start and end messages go to history and the archive like any message. */
function send(room: Room, p: Poll, body: string | undefined): void {
  const m = pollMessage(room, p, body);
  if (body !== undefined) {
    room.host.archive.append(room.jid, {
      ts: Date.now(),
      nick: p.creatorNick,
      realJid: p.creatorJid,
      occupantId: p.creatorOccupantId,
      stanza: m,
      persist: room.config.enableArchiving,
    });
  }
  room.broadcast(new PreparedStanza(m));
}

function scheduleUpdate(room: Room): void {
  const t = timersOf(room);
  if (t.update) return; // one update per window whatever the number of votes
  t.update = later(UPDATE_DEBOUNCE_MS, () => {
    t.update = undefined;
    const p = currentPoll(room);
    if (room.destroyed || !p || p.ended) return;
    send(room, p, undefined);
  });
}

function schedulePurge(room: Room): void {
  const t = timersOf(room);
  if (t.purge) clearTimeout(t.purge);
  t.purge = later(PURGE_AFTER_MS, () => {
    t.purge = undefined;
    const p = currentPoll(room);
    if (room.destroyed || !p || !p.ended) return; // a new poll started meanwhile
    delete room.data.poll;
    room.host.persist(room);
  });
}

function endPoll(room: Room): void {
  const p = currentPoll(room);
  if (!p) return;
  if (p.ended) {
    schedulePurge(room);
    return;
  }
  p.ended = true;
  const t = timersOf(room);
  if (t.end) clearTimeout(t.end);
  if (t.update) clearTimeout(t.update);
  t.end = t.update = undefined;
  send(room, p, bodyText(p, true));
  room.host.persist(room);
  schedulePurge(room);
}

function scheduleEnd(room: Room, p: Poll): void {
  const t = timersOf(room);
  if (t.end) clearTimeout(t.end);
  // setTimeout caps at ~24.8 days; longer polls re-arm.
  const ms = Math.max(1000, p.end * 1000 - Date.now());
  t.end = later(Math.min(ms, 2 ** 31 - 1), () => {
    t.end = undefined;
    if (room.destroyed || currentPoll(room) !== p) return;
    if (Date.now() >= p.end * 1000) endPoll(room);
    else scheduleEnd(room, p);
  });
}

export function install({ hooks, iq }: FeatureContext): void {
  iq.register('query', POLL_NS, 'get', ({ room, from }) => {
    requireOwnerOrAdmin(room, bareString(from));
    return el(
      'query',
      { xmlns: POLL_NS },
      buildForm(
        'form',
        POLL_NS,
        formFields(),
        'New poll',
        'Complete and submit this form to create a new poll. This will end and replace any existing poll.',
      ),
    );
  });

  iq.register('query', POLL_NS, 'set', ({ room, from, payload, occupant }) => {
    if (!occupant) throw new StanzaError('forbidden', undefined, 'auth');
    requireOwnerOrAdmin(room, bareString(from));
    const x = payload.getChild('x', MUC_NS.DATA);
    if (!x) throw new StanzaError('bad-request', undefined, 'modify');
    const fields = readForm(x);
    const ft = formType(fields);
    if (!ft) throw new StanzaError('bad-request', 'Invalid dataform: missing FORM_TYPE', 'modify');
    if (ft !== POLL_NS) throw new StanzaError('bad-request', `Unexpected FORM_TYPE, expected '${POLL_NS}'`, 'modify');
    if (x.attrs.type === 'cancel') return;
    if (x.attrs.type !== 'submit') throw new StanzaError('bad-request', 'Not a submitted form', 'cancel');
    const sub = parseSubmission(fields);
    endPoll(room); // a new poll ends and replaces the current one
    const poll: Poll = {
      id: randomBytes(6).toString('base64url'),
      question: sub.question,
      anonymous: sub.anonymous,
      end: Math.floor(Date.now() / 1000) + 60 * sub.minutes,
      ended: false,
      choices: sub.choices,
      votesByChoice: Object.fromEntries(sub.choices.map((c) => [c.n, 0])),
      votesByVoter: {},
      creatorNick: occupant.nick,
      creatorJid: occupant.bareJid,
      creatorOccupantId: occupant.occupantId,
    };
    room.data.poll = poll;
    room.host.persist(room);
    send(room, poll, bodyText(poll, false));
    scheduleEnd(room, poll);
  });

  // Nobody may forge poll markup: occupants' copies never carry it.
  hooks.on(
    'groupchat',
    ({ stanza }) => {
      stanza.children = stanza.children.filter((c) => typeof c === 'string' || !POLL_TAGS.has(c.name));
    },
    1000,
  );

  // Votes, after the voice check (80) and before emoji-only (45) and slow mode (40), as in livechat.
  hooks.on(
    'groupchat',
    ({ room, occupant, stanza }) => {
      const p = currentPoll(room);
      if (!p) return;
      const m = /^\s*!(\d+)\s*$/.exec(stanza.getChildText('body') ?? '');
      if (!m) return;
      // Votes after the end keep bouncing until the poll is purged, so a late vote never shows its choice.
      if (Date.now() >= p.end * 1000) throw new StanzaError('not-allowed', STR.over, 'cancel');
      const choice = m[1];
      if (p.votesByChoice[choice] === undefined) throw new StanzaError('bad-request', STR.invalid, 'cancel');
      const prev = p.votesByVoter[occupant.bareJid];
      if (prev !== undefined) p.votesByChoice[prev]--;
      p.votesByChoice[choice]++;
      p.votesByVoter[occupant.bareJid] = choice;
      room.host.persist(room);
      scheduleUpdate(room);
      if (p.anonymous) throw new StanzaError('undefined-condition', STR.anonymousOk, 'continue');
    },
    50,
  );

  // Each new session gets the running poll after the subject (clients skip delayed history when drawing polls).
  hooks.on(
    'join',
    ({ room, session }) => {
      const p = currentPoll(room);
      if (!session || !p || p.ended) return;
      room.deliverToSession(session, new PreparedStanza(pollMessage(room, p, undefined)));
    },
    5,
  );

  hooks.on('restored', ({ room }) => {
    const p = currentPoll(room);
    if (!p) return;
    if (p.ended || Date.now() >= p.end * 1000) {
      endPoll(room);
      return;
    }
    scheduleEnd(room, p);
    scheduleUpdate(room);
  });

  hooks.on('destroyed', ({ room }) => {
    const t = timers.get(room);
    if (t) for (const k of ['end', 'update', 'purge'] as const) if (t[k]) clearTimeout(t[k]);
    timers.delete(room);
  });

  hooks.on('disco-info', ({ features }) => {
    features.add(POLL_NS);
  });
}
