// The first join storm after a start meets code V8 has never run: it compiles and optimizes every path a join
// takes while the crowd waits (bench/live's warm-storm: the first 400-viewer storm after a start costs ~0.4 s more
// CPU than the next one). A live's storm may well be the first thing a restarted server serves, so in its first idle
// moment after start the server rehearses once: a hundred anonymous viewers connect over loopback to a listener of
// the rehearsal's own, whose upgrades go to the server's WebSocket endpoint, log in, join a hidden room, ask for its
// history and for each other's vCards, and leave: the same HTTP upgrade, framing, sessions and room code as real
// viewers. Nothing is kept: nobody speaks, so no archive is written, and the room ends with its last occupant.
// (Viewers made in memory, without sockets, warmed too little: the upgrade and ws's framing are much of the cost.)
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import type { MucService } from './muc/service.js';
import { MUC_NS } from './muc/types.js';
import { NS } from './xmpp/namespaces.js';
import type { Logger } from './log.js';

export interface RehearsalDeps {
  /** Where the anonymous viewers log in. */
  anonymousHost: string;
  mucHost: string;
  muc: MucService;
  /** The server's own WebSocket upgrade (its HTTP listener's, or the PeerTube route's), whatever the path. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  log: Logger;
  /** The server is stopping: every step still waiting gives up at once. */
  signal: AbortSignal;
}

/** Viewers in the rehearsal: enough for V8 to optimize the join's hot functions. */
export const REHEARSAL_VIEWERS = 100;
/** How long one step may wait for its answer before the rehearsal gives up (it is only an optimization). */
const STEP_TIMEOUT_MS = 5000;

/** One rehearsing viewer's WebSocket, sending a stanza at a time and waiting for what answers it. */
class RehearsalClient {
  private waiting: { marks: string[]; resolve(): void; reject(why: string): void } | null = null;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const w = this.waiting;
      if (w && w.marks.some((m) => data.includes(m))) w.resolve();
    });
    ws.on('close', () => this.fail('the server closed the connection'));
  }

  static connect(url: string): Promise<RehearsalClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, 'xmpp', { perMessageDeflate: false, handshakeTimeout: STEP_TIMEOUT_MS });
      ws.once('open', () => resolve(new RehearsalClient(ws)));
      ws.once('error', reject);
    });
  }

  /** Sends `text` and resolves when a message holding one of `marks` comes back. */
  exchange(text: string, ...marks: string[]): Promise<void> {
    if (this.ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('the connection is closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(`no answer to ${text.slice(0, 60)}`), STEP_TIMEOUT_MS);
      timer.unref();
      const settle = () => {
        clearTimeout(timer);
        this.waiting = null;
      };
      this.waiting = {
        marks,
        resolve: () => {
          settle();
          resolve();
        },
        reject: (why) => {
          settle();
          reject(new Error(why));
        },
      };
      this.ws.send(text);
    });
  }

  /** The step waiting, if any, gives up. */
  fail(why: string): void {
    this.waiting?.reject(why);
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(`<close xmlns='${NS.FRAMING}'/>`);
      this.ws.close(1000);
    }
    // A close the server does not complete is cut.
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }
}

/** Either quoting of an attribute, as the serializer may use one or the other. */
const attr = (name: string, value: string): string[] => [`${name}="${value}"`, `${name}='${value}'`];

/** Lets every viewer wait until all have their history (or failed) before the vCard round. */
class Barrier {
  private left: number;
  private release!: () => void;
  readonly all = new Promise<void>((resolve) => (this.release = resolve));
  constructor(n: number) {
    this.left = n;
  }
  arrive(): Promise<void> {
    if (--this.left <= 0) this.release();
    return this.all;
  }
}

async function viewer(
  deps: RehearsalDeps,
  url: string,
  room: string,
  i: number,
  seated: Barrier,
  clients: Set<RehearsalClient>,
): Promise<void> {
  let socket: RehearsalClient | undefined;
  const open = `<open xmlns='${NS.FRAMING}' to='${deps.anonymousHost}' version='1.0'/>`;
  const nick = `rehearsal-${i}`;
  let arrived = false;
  try {
    if (deps.signal.aborted) throw new Error('the server is stopping');
    const client = (socket = await RehearsalClient.connect(url));
    clients.add(client);
    if (deps.signal.aborted) throw new Error('the server is stopping'); // while it connected
    await socket.exchange(open, 'ANONYMOUS');
    await socket.exchange(`<auth xmlns='${NS.SASL}' mechanism='ANONYMOUS'/>`, '<success');
    await socket.exchange(open, 'xmpp-bind');
    await socket.exchange(`<iq type='set' id='r-bind'><bind xmlns='${NS.BIND}'/></iq>`, ...attr('id', 'r-bind'));
    // What ConverseJS asks before it joins (bench/live/viewer.ts does the same).
    const pre: Array<[string, string]> = [
      ['r-disco', `<iq type='get' id='r-disco' to='${deps.anonymousHost}'><query xmlns='${NS.DISCO_INFO}'/></iq>`],
      ['r-roster', `<iq type='get' id='r-roster'><query xmlns='${NS.ROSTER}'/></iq>`],
      ['r-carbons', `<iq type='set' id='r-carbons'><enable xmlns='${NS.CARBONS}'/></iq>`],
      ['r-vcard', `<iq type='get' id='r-vcard'><vCard xmlns='${NS.VCARD}'/></iq>`],
      ['r-room', `<iq type='get' id='r-room' to='${room}'><query xmlns='${NS.DISCO_INFO}'/></iq>`],
      ['r-room-vcard', `<iq type='get' id='r-room-vcard' to='${room}'><vCard xmlns='${NS.VCARD}'/></iq>`],
    ];
    for (const [id, text] of pre) await socket.exchange(text, ...attr('id', id));
    await socket.exchange(
      `<presence to='${room}/${nick}'><x xmlns='${MUC_NS.MUC}'><history maxstanzas='0'/></x></presence>`,
      ...attr('code', '110'),
    );
    await socket.exchange(
      `<iq type='set' id='r-mam' to='${room}'><query xmlns='${NS.MAM}' queryid='r-q'>` +
        `<set xmlns='${NS.RSM}'><max>50</max><before/></set></query></iq>`,
      ...attr('id', 'r-mam'),
    );
    // Everyone seated, each asks for the vCards of a few others (as a client showing the occupant list does).
    arrived = true;
    await seated.arrive();
    for (let k = 1; k <= 8; k++) {
      const other = `rehearsal-${(i + k) % REHEARSAL_VIEWERS}`;
      await socket.exchange(
        `<iq type='get' id='r-v${k}' to='${room}/${other}'><vCard xmlns='${NS.VCARD}'/></iq>`,
        ...attr('id', `r-v${k}`),
      );
    }
    await socket.exchange(`<presence type='unavailable' to='${room}/${nick}'/>`, ...attr('type', 'unavailable'));
  } finally {
    if (!arrived) void seated.arrive();
    socket?.close();
  }
}

/** Runs every viewer through a listener of the rehearsal's own; resolves with how each did. */
async function run(deps: RehearsalDeps, room: string): Promise<Array<PromiseSettledResult<void>>> {
  const seated = new Barrier(REHEARSAL_VIEWERS);
  // Its upgrades go to the server's: the rehearsal takes the same HTTP upgrade, ws framing and sockets as viewers.
  const listener = createServer((_req, res) => res.writeHead(404).end());
  listener.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!deps.upgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', resolve);
  });
  const url = `ws://127.0.0.1:${(listener.address() as AddressInfo).port}/`;
  const clients = new Set<RehearsalClient>();
  const stop = () => {
    for (const c of clients) c.fail('the server is stopping');
  };
  deps.signal.addEventListener('abort', stop, { once: true });
  try {
    const runs: Array<Promise<void>> = [];
    for (let i = 0; i < REHEARSAL_VIEWERS; i++) runs.push(viewer(deps, url, room, i, seated, clients));
    return await Promise.allSettled(runs);
  } finally {
    deps.signal.removeEventListener('abort', stop);
    listener.close();
  }
}

/** Rehearses once; resolves when done (failures are logged and the rehearsal's traces removed). */
export async function rehearse(deps: RehearsalDeps): Promise<void> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const local = `rehearsal-${randomBytes(6).toString('hex')}`;
  const room = `${local}@${deps.mucHost}`;
  // Hidden, and open to all of them whatever the service's defaults for new rooms say.
  deps.muc.createRoom(local, {
    config: { name: 'Rehearsal', persistent: false, public: false, membersOnly: false, password: '', maxUsers: 0 },
  });
  let results: Array<PromiseSettledResult<void>>;
  try {
    results = await run(deps, room);
  } finally {
    deps.muc.destroyRoom(local); // a temporary room is gone with its last occupant already; not if one is stuck
  }
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const used = process.cpuUsage(cpu);
  const what = `rehearsal: ${REHEARSAL_VIEWERS} viewers joined and left in ${Math.round(performance.now() - started)} ms (${Math.round((used.user + used.system) / 1000)} ms of CPU)`;
  if (deps.signal.aborted) deps.log.debug(`${what}: cut short by the server's stop`);
  else if (failed)
    deps.log.warn(`${what}, not all of it: ${String((failed.reason as Error)?.message ?? failed.reason)}`);
  else deps.log.info(what);
}
