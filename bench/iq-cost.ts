// Server CPU per IQ round trip for the stanzas every viewer sends on login (disco#info of its host, of the server and
// of the MUC service, the roster, an occupant's vCard), beside an XMPP ping to the server measured in the same run: the
// ping is the cheapest round trip the whole inbound path (frame → parse → route → handler → serialize) allows, so the
// ratio says how much the answer itself costs. Also the MAM query every joining viewer sends (the room's last 50
// messages). CPU from /proc, not wall time, so a busy machine disturbs less.
// Usage: npm run bench:iq -- [--iqs 8000] [--clients 10] [--window 20]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild } from './lib/child.js';
import { cpuSeconds } from './lib/proc.js';
import { wsClient, type RawClient } from './lib/raw-clients.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const IQS = Math.min(arg('iqs', 8000), 200_000);
const CLIENTS = arg('clients', 10);
const WINDOW = arg('window', 20);
const ROUNDS = 2; // each kind runs twice, interleaved with the others, so load changes on the machine spread evenly
const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = import.meta.resolve('tsx');
const ROOM = 'bench@room.localhost';

interface Kind {
  label: string;
  iq: (id: string, self: string) => string;
  /** Runs IQS / share round trips of this kind (a heavy answer: fewer of them still take a while). */
  share?: number;
}
/** Messages the room holds before the MAM row asks for its last page. */
const HISTORY = 60;
const KINDS: Kind[] = [
  {
    label: 'ping to the server (baseline)',
    iq: (id) =>
      `<iq xmlns="jabber:client" type="get" id="${id}" to="anon.localhost"><ping xmlns="urn:xmpp:ping"/></iq>`,
  },
  {
    label: 'disco#info anon host',
    iq: (id) =>
      `<iq xmlns="jabber:client" type="get" id="${id}" to="anon.localhost"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
  },
  {
    label: 'disco#info server domain',
    iq: (id) =>
      `<iq xmlns="jabber:client" type="get" id="${id}" to="localhost"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
  },
  {
    label: 'disco#info MUC service',
    iq: (id) =>
      `<iq xmlns="jabber:client" type="get" id="${id}" to="room.localhost"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
  },
  {
    // What every viewer asks before joining (ConverseJS): the room's features and its muc#roominfo form.
    label: 'disco#info of the room',
    iq: (id) =>
      `<iq xmlns="jabber:client" type="get" id="${id}" to="${ROOM}"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
  },
  {
    // Every client sits in one room (below) and asks for the first one's vCard: the room answers with its avatar.
    label: 'vCard of an occupant (room/nick)',
    iq: (id) => `<iq xmlns="jabber:client" type="get" id="${id}" to="${ROOM}/c0"><vCard xmlns="vcard-temp"/></iq>`,
  },
  {
    label: 'roster get (empty)',
    iq: (id) => `<iq xmlns="jabber:client" type="get" id="${id}"><query xmlns="jabber:iq:roster"/></iq>`,
  },
  {
    // What every joining viewer asks (ConverseJS on open): 50 result messages, then the iq with <fin/>.
    label: 'MAM last 50 of the room',
    iq: (id) =>
      `<iq xmlns="jabber:client" type="set" id="${id}" to="${ROOM}"><query xmlns="urn:xmpp:mam:2" queryid="${id}">` +
      `<set xmlns="http://jabber.org/protocol/rsm"><max>50</max><before/></set></query></iq>`,
    share: 10,
  },
];

/** `n` round trips of one kind spread over the clients, each keeping `WINDOW` in flight. Resolves with the bytes answered. */
function roundTrips(clients: Array<RawClient & { self: string }>, kind: Kind, n: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let done = 0;
    let bytes = 0;
    const timer = setTimeout(() => reject(new Error(`${kind.label}: ${done}/${n} answered after 120 s`)), 120_000);
    for (const c of clients) {
      const sendOne = () => {
        if (sent < n) c.send(kind.iq(`q${sent++}`, c.self));
      };
      c.onData((s) => {
        if (!s.startsWith('<iq')) return;
        if (!s.includes('type="result"')) {
          clearTimeout(timer);
          reject(new Error(`${kind.label}: not a result: ${s.slice(0, 300)}`));
          return;
        }
        bytes += s.length;
        if (++done === n) {
          clearTimeout(timer);
          resolve(bytes);
          return;
        }
        sendOne();
      });
      for (let i = 0; i < WINDOW; i++) sendOne();
    }
  });
}

const dataDir = await mkdtemp(join(tmpdir(), 'bench-iq-'));
const ours = await startChild(
  process.execPath,
  ['--import', tsx, join(root, 'src/cli.ts'), '--http-port', '0', '--data', dataDir, '--log-level', 'warn'],
  /ws:\/\/127\.0\.0\.1:\d+\/xmpp-websocket/,
);
try {
  const clients: Array<RawClient & { self: string }> = [];
  for (let i = 0; i < CLIENTS; i++) {
    const c = await wsClient(ours.match[0], 'anon.localhost');
    clients.push(Object.assign(c, { self: c.jid.split('/')[0]! }));
  }
  // Seated one after another, so c0 is there when the others ask for its vCard.
  for (const [i, c] of clients.entries()) {
    const seated = new Promise<void>((r) => c.onData((s) => s.includes('code="110"') && r()));
    c.send(`<presence xmlns="jabber:client" to="${ROOM}/c${i}"><x xmlns="http://jabber.org/protocol/muc"/></presence>`);
    await seated;
  }
  // The room's history for the MAM row: c0 posts, and the last message back to it says all are archived.
  const posted = new Promise<void>((r) => clients[0]!.onData((s) => s.includes(`>m${HISTORY - 1}<`) && r()));
  for (let i = 0; i < HISTORY; i++)
    clients[0]!.send(
      `<message xmlns="jabber:client" type="groupchat" to="${ROOM}" id="h${i}"><body>m${i}</body></message>`,
    );
  await posted;
  const count = (k: Kind) => Math.max(1, Math.round(IQS / (k.share ?? 1)));
  for (const k of KINDS) await roundTrips(clients, k, Math.min(count(k), 2000)); // warm up: JIT, lazily built answers
  const cpu = new Map<string, { s: number; n: number; bytes: number }>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of KINDS) {
      const c0 = cpuSeconds(ours.pid);
      const bytes = await roundTrips(clients, k, count(k));
      const e = cpu.get(k.label) ?? { s: 0, n: 0, bytes: 0 };
      e.s += cpuSeconds(ours.pid) - c0;
      e.n += count(k);
      e.bytes += bytes;
      cpu.set(k.label, e);
    }
  }
  for (const c of clients) c.close();
  const base = cpu.get(KINDS[0]!.label)!;
  const perBase = base.s / base.n;
  console.log(
    `\n${IQS * ROUNDS} round trips per kind (MAM: ${count(KINDS.at(-1)!) * ROUNDS}), ${CLIENTS} WebSocket clients × ${WINDOW} in flight, server CPU from /proc, ${new Date().toISOString()}`,
  );
  console.log('| iq | server CPU µs per round trip | ratio to ping | answer bytes |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const k of KINDS) {
    const e = cpu.get(k.label)!;
    const per = e.s / e.n;
    console.log(
      `| ${k.label} | ${(per * 1e6).toFixed(1)} | ${(per / perBase).toFixed(2)} | ${Math.round(e.bytes / e.n)} |`,
    );
  }
} finally {
  await ours.stop();
  await rm(dataDir, { recursive: true, force: true });
}
