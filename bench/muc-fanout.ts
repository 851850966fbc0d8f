// MUC fan-out benchmark: one room with N occupants on real WebSocket connections (loopback), one sender.
// Measures deliveries/s and p50/p99 delivery latency through Router + MucService, beside a raw `ws` broadcast of
// the same bytes to the same number of sockets in the same run; then a join storm of N occupants (time until
// everyone has self-presence, history and subject), with presence broadcast to all roles and limited to moderators.
//
//   node --import tsx bench/muc-fanout.ts --occupants 400 [--messages 100] [--batch 10] [--storm-all-max 1000]
//   node --import tsx bench/muc-fanout.ts --occupants 400 --rate 250 [--messages 5000] [--coalesce-ms 50]
//
// Rounds (default): send a batch, wait until every copy arrived, repeat; the MUC path holds writes until the end of
// the tick only (--coalesce-ms 0), since a closed loop would otherwise measure the coalescing window.
// Paced (--rate R): R messages a second, one per tick as a live room sends them, against the raw `ws` broadcast
// (corked per tick), the MUC path with writes held to the end of the tick, the raw broadcast held for the window
// (the same writes per delivery as the windowed MUC path), the same bytes as frames made once and written with no
// library between (the floor of those writes), and the MUC path with the write-coalescing
// window (c2s.coalesceMs), fixed and widening under load up to c2s.coalesceMaxMs (--coalesce-max-ms); each with
// server-thread CPU per delivery and delivery latency p50/p99.
//
// Occupants are the shipped c2s stack on the server side of each socket: C2SSession (stream management off, the
// send-buffer bound that drops clients who stop reading) over WebSocketTransport with its write coalescing. Each session
// is negotiated (open, SASL ANONYMOUS, bind) by feeding its transport handler the client's elements in-process,
// and joins and messages enter through the session as a client's stanzas would; only the socket read is skipped.
import { WebSocketServer, WebSocket } from 'ws';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import { parse } from 'ltx';
import { Router } from '../src/xmpp/router.js';
import { IqRegistry } from '../src/xmpp/iq-registry.js';
import type { Element } from '../src/xmpp/xml.js';
import { silentLogger } from '../src/log.js';
import { validateConfig } from '../src/config.js';
import { C2SSession } from '../src/xmpp/c2s/session.js';
import type { C2SContext, Connection } from '../src/xmpp/c2s/context.js';
import { createC2SFeatures, resourceBindingFeature, transportSecurityFeature } from '../src/xmpp/c2s/features.js';
import { saslMechanismsFeature } from '../src/xmpp/sasl/feature.js';
import { SendBudget } from '../src/xmpp/c2s/send-budget.js';
import { AuthLimiter } from '../src/xmpp/c2s/auth-limiter.js';
import { ResumptionRegistry } from '../src/xmpp/stream-management.js';
import { anonymousMechanism } from '../src/xmpp/sasl/anonymous.js';
import { WebSocketTransport } from '../src/xmpp/websocket.js';
import { WriteCoalescer } from '../src/xmpp/write-coalescing.js';
import { EdgeLink } from '../src/edge/link.js';
import { frameHeaderSize, writeFrameHeader } from '../src/xmpp/ws-frame.js';
import { EdgeTransport } from '../src/edge/transport.js';
import { createServer as createHttp } from 'node:http';
import { createMucService } from '../src/muc/service.js';
import { defaultMucConfig } from '../src/muc/config.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileArchive } from '../src/storage/archive.js';
import { MucArchiveBridge } from '../src/mam/muc-bridge.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const N = arg('occupants', 400);
const MESSAGES = arg('messages', 100);
const BATCH = arg('batch', 10);
const STORM_ALL_MAX = arg('storm-all-max', 1000);
const MAX_BUFFERED = 4 * 1024 * 1024;
const ROUND_TIMEOUT_MS = arg('timeout', 30_000);
const HOST = 'room.localhost';
/** --archive 1: also measure the fan-out with the durable file archive (senders' reflections wait for the disk). */
const WITH_ARCHIVE = arg('archive', 0) === 1;
/** Messages a second in paced mode; 0: rounds of --batch. */
const RATE = arg('rate', 0);
/** The MUC path's write-coalescing window (c2s.coalesceMs) in the rounds, and the window compared in paced mode. */
const COALESCE_MS = arg('coalesce-ms', RATE > 0 ? validateConfig({}).c2s.coalesceMs : 0);
/** Paced mode: the widest window under load (c2s.coalesceMaxMs) for the adaptive-window runs. */
const COALESCE_MAX_MS = arg('coalesce-max-ms', Math.max(COALESCE_MS, validateConfig({}).c2s.coalesceMaxMs));
/** --edge 0: skip the comparison with the sockets in a WebSocket edge process. */
const WITH_EDGE = arg('edge', 1) === 1;

// ---- sockets and the client worker ----------------------------------------------------------------------

/** The client sockets run in a worker thread; this side talks to it with small request/response messages. */
class Clients {
  private worker: Worker;
  constructor() {
    // Node 20 workers do not inherit the tsx loader for their entry file: load it through tsx's API.
    const file = new URL('./muc-fanout-clients.ts', import.meta.url).href;
    this.worker = new Worker(
      `import('tsx/esm/api').then((m) => m.tsImport(${JSON.stringify(file)}, ${JSON.stringify(import.meta.url)}))`,
      { eval: true },
    );
  }
  request<T = Record<string, unknown>>(
    cmd: Record<string, unknown>,
    reply: string,
    timeoutMs = ROUND_TIMEOUT_MS,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.worker.off('message', on);
        this.worker.once('message', (d) => console.error('worker state:', d));
        this.worker.postMessage({ cmd: 'debug' });
        setTimeout(() => reject(new Error(`timed out waiting for ${reply}`)), 100);
      }, timeoutMs);
      const on = (m: { type: string }) => {
        if (m.type !== reply) return;
        clearTimeout(t);
        this.worker.off('message', on);
        resolve(m as T);
      };
      this.worker.on('message', on);
      this.worker.postMessage(cmd);
    });
  }
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

async function openSockets(wss: WebSocketServer, port: number, n: number, clients: Clients): Promise<WebSocket[]> {
  const servers: WebSocket[] = new Array(n);
  wss.on('connection', (ws, req) => {
    servers[Number(new URL(req.url ?? '/', 'http://x').searchParams.get('i'))] = ws;
  });
  await clients.request({ cmd: 'connect', port, n }, 'connected', 120_000);
  while (servers.filter(Boolean).length < n) await new Promise((r) => setTimeout(r, 10));
  wss.removeAllListeners('connection');
  return servers;
}

/** Corks a socket until the end of the tick, so many frames written in one fan-out leave in one TCP write. */
function corkedSend(ws: WebSocket, data: string, corked: Set<WebSocket>): void {
  if (!corked.has(ws)) {
    corked.add(ws);
    const sock = (ws as unknown as { _socket: Socket })._socket;
    sock.cork();
    setImmediate(() => {
      corked.delete(ws);
      sock.uncork();
    });
  }
  ws.send(data);
}

/**
 * Corks a socket until a window of `ms` that began with its first held frame ends (one timer for every socket held
 * in the same window), so a paced broadcast makes as many writes per delivery as the MUC path with that window.
 */
function windowedSend(ws: WebSocket, data: string, held: Set<WebSocket>, ms: number): void {
  if (held.size === 0)
    setTimeout(() => {
      for (const w of held) (w as unknown as { _socket: Socket })._socket.uncork();
      held.clear();
    }, ms);
  if (!held.has(ws)) {
    held.add(ws);
    (ws as unknown as { _socket: Socket })._socket.cork();
  }
  ws.send(data);
}

/** The server side of occupant i's socket: in-process (a ws WebSocket) or held by the edge process. */
type ServerSide = WebSocket | EdgeTransport;

/** A shipped C2SSession on the server side of a socket, negotiated up to a bound resource by feeding it the client's side. */
async function shippedSession(
  ctx: C2SContext,
  side: ServerSide,
  i: number,
  coalescer: WriteCoalescer,
): Promise<C2SSession> {
  const t =
    side instanceof EdgeTransport
      ? side
      : new WebSocketTransport(side, '127.0.0.1', true, ctx.config.limits.maxStanzaSize, undefined, coalescer);
  const s = new C2SSession(ctx, t);
  t.handler = s;
  const host = ctx.config.anonymousHost!;
  s.streamOpened({ to: host, version: '1.0' });
  s.element(parse('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>'));
  for (let k = 0; !s.isAuthenticated; k++) {
    if (k > 10_000) throw new Error(`session ${i}: SASL ANONYMOUS did not complete`);
    await new Promise((r) => setImmediate(r)); // SASL steps are asynchronous
  }
  s.streamOpened({ to: host, version: '1.0' });
  s.element(
    parse(
      `<iq xmlns="jabber:client" type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>bench${i}</resource></bind></iq>`,
    ),
  );
  if (!s.isEstablished) throw new Error(`session ${i} did not reach the established state`);
  return s;
}

// ---- measurement -------------------------------------------------------------------------------------------

const stamp = () => (performance.timeOrigin + performance.now()).toFixed(3);

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/**
 * CPU seconds of this process's main thread (the server side: sessions, room, ws senders), from
 * /proc/self/task/<tid>/stat; the client sockets' worker thread is not counted. NaN where /proc is absent.
 */
function mainThreadCpuSeconds(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in USER_HZ ticks (100 on Linux)
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) of a whole process, e.g. the edge child. */
function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

interface Result {
  /** Server-side (main thread) CPU per delivery. */
  cpuUs: number;
  /** The edge process's CPU per delivery, when the sockets are the edge's. */
  edgeCpuUs?: number;
  /**
   * The room's own fan-out time per recipient (its `observeFanout`: serializing once and handing each session its
   * copy, the loop this run's code changes; the socket writes come later, from the coalescing window).
   */
  loopUs?: number;
  deliveriesPerSec: number;
  p50: number;
  p99: number;
  deliveries: number;
}

async function rounds(
  clients: Clients,
  send: (i: number) => void,
  perMessage: number,
  edgePid?: number,
): Promise<Result> {
  if (RATE > 0) return paced(clients, send, perMessage);
  await clients.request({ cmd: 'reset' }, 'reset');
  const start = performance.now();
  const cpu0 = mainThreadCpuSeconds();
  const edge0 = edgePid ? processCpuSeconds(edgePid) : NaN;
  let sent = 0;
  while (sent < MESSAGES) {
    const n = Math.min(BATCH, MESSAGES - sent);
    // Absolute target: frames of this round may reach the worker before this request does.
    const done = clients.request({ cmd: 'expect', target: (sent + n) * perMessage }, 'reached');
    for (let k = 0; k < n; k++) send(sent + k);
    sent += n;
    await done;
  }
  const secs = (performance.now() - start) / 1000;
  const cpu = mainThreadCpuSeconds() - cpu0;
  const edgeCpu = edgePid ? processCpuSeconds(edgePid) - edge0 : NaN;
  const { latencies } = await clients.request<{ latencies: number[] }>({ cmd: 'report' }, 'report');
  return {
    deliveries: latencies.length,
    cpuUs: (cpu * 1e6) / latencies.length,
    ...(edgePid ? { edgeCpuUs: (edgeCpu * 1e6) / latencies.length } : {}),
    deliveriesPerSec: latencies.length / secs,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
  };
}

/** MESSAGES at RATE a second, each sent from its own timer tick; measured until the last copy arrived. */
async function paced(clients: Clients, send: (i: number) => void, perMessage: number): Promise<Result> {
  await clients.request({ cmd: 'reset' }, 'reset');
  const done = clients.request({ cmd: 'expect', target: MESSAGES * perMessage }, 'reached', ROUND_TIMEOUT_MS * 4);
  const start = performance.now();
  const cpu0 = mainThreadCpuSeconds();
  for (let i = 0; i < MESSAGES; i++) {
    const wait = start + (i * 1000) / RATE - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else await new Promise((r) => setImmediate(r)); // behind schedule: still one message per tick
    send(i);
  }
  await done;
  const secs = (performance.now() - start) / 1000;
  const cpu = mainThreadCpuSeconds() - cpu0;
  const { latencies } = await clients.request<{ latencies: number[] }>({ cmd: 'report' }, 'report');
  return {
    deliveries: latencies.length,
    cpuUs: (cpu * 1e6) / latencies.length,
    deliveriesPerSec: latencies.length / secs,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
  };
}

// ---- scenarios -----------------------------------------------------------------------------------------

/** A groupchat message of the size ConverseJS sends, as the room relays it (stanza-id, occupant-id, origin-id). */
function rawMessage(i: number): string {
  return (
    `<message xmlns="jabber:client" to="viewer@anon.localhost/x" from="bench@${HOST}/Sender" type="groupchat" id="m${i}">` +
    `<body>message ${i} t=${stamp()} lorem ipsum dolor sit amet</body>` +
    `<origin-id xmlns="urn:xmpp:sid:0" id="0c2a9d2e-5a3c-4c4f-9a8e-${String(i).padStart(12, '0')}"/>` +
    `<occupant-id xmlns="urn:xmpp:occupant-id:0" id="u2tc8iKHvX1fAb0s6eH0Qw"/>` +
    `<stanza-id xmlns="urn:xmpp:sid:0" id="AbCdEfGh12lmnop${i}" by="bench@${HOST}"/></message>`
  );
}

/** The ceiling: the same bytes written to every socket, corked per tick like the MUC path. */
async function raw(servers: WebSocket[], clients: Clients): Promise<Result> {
  const corked = new Set<WebSocket>();
  return rounds(
    clients,
    (i) => {
      const bytes = rawMessage(i);
      for (const ws of servers) corkedSend(ws, bytes, corked);
    },
    servers.length,
  );
}

/**
 * A windowed fan-out through bare `ws`: the same bytes, each socket's frames held `ms` and written together, as many
 * writes per delivery as the MUC path with that window and none of its work.
 */
async function rawWindowed(servers: WebSocket[], clients: Clients, ms: number): Promise<Result> {
  const held = new Set<WebSocket>();
  return rounds(
    clients,
    (i) => {
      const bytes = rawMessage(i);
      for (const ws of servers) windowedSend(ws, bytes, held, ms);
    },
    servers.length,
  );
}

/**
 * The transport's own floor at that window: each message made into one WebSocket frame, shared by every socket, and
 * each socket's frames of a window written as one buffer, a syscall per socket per window, with no library between.
 */
async function rawFramesWindowed(servers: WebSocket[], clients: Clients, ms: number): Promise<Result> {
  const sockets = servers.map((ws) => (ws as unknown as { _socket: Socket })._socket);
  let pending: Buffer[] = [];
  return rounds(
    clients,
    (i) => {
      const payload = Buffer.from(rawMessage(i));
      const frame = Buffer.allocUnsafe(frameHeaderSize(payload.length) + payload.length);
      payload.copy(frame, writeFrameHeader(frame, 0, payload.length));
      if (pending.length === 0)
        setTimeout(() => {
          const bytes = Buffer.concat(pending);
          pending = [];
          for (const s of sockets) s.write(bytes);
        }, ms);
      pending.push(frame);
    },
    servers.length,
  );
}

async function mucSetup(
  servers: ServerSide[],
  presenceBroadcast: Array<'moderator' | 'participant' | 'visitor'>,
  durable = false,
  coalesceMs = COALESCE_MS,
  coalesceMaxMs = coalesceMs,
) {
  const config = validateConfig({
    domain: 'localhost',
    mucHost: HOST,
    dataDir: tmpdir(),
    limits: { maxSendBufferBytes: MAX_BUFFERED },
    c2s: { coalesceMs, coalesceMaxMs },
  });
  const coalescer = new WriteCoalescer({
    windowMs: config.c2s.coalesceMs,
    maxHeldBytes: config.c2s.coalesceMaxBytes,
    maxWindowMs: config.c2s.coalesceMaxMs,
    writesPerSecond: config.c2s.coalesceWritesPerSecond,
    minFanoutPerSecond: config.c2s.coalesceMinFanoutPerSecond,
  });
  const router = new Router(new IqRegistry(), silentLogger);
  router.addUserHost('anon.localhost');
  router.addUserHost('localhost');
  const mucConfig = { ...defaultMucConfig('localhost'), host: HOST };
  mucConfig.defaultRoomConfig = { ...mucConfig.defaultRoomConfig, presenceBroadcast };
  const dir = durable ? mkdtempSync(join(tmpdir(), 'bench-fanout-')) : null;
  const archive = dir ? new FileArchive(dir, { expiry: 'never' }, { log: () => undefined }) : null;
  const bridge = archive
    ? new MucArchiveBridge(archive, { send: (r) => void router.deliverPrepared(r.to, r) })
    : undefined;
  const fanout = { seconds: 0, recipients: 0 };
  const muc = createMucService({
    router,
    log: silentLogger,
    config: mucConfig,
    dataDir: null,
    archive: bridge,
    mam: bridge,
    observeFanout: (seconds, recipients) => {
      fanout.seconds += seconds;
      fanout.recipients += recipients;
    },
  });
  const connections = new Set<Connection>();
  const features = createC2SFeatures();
  features.preAuth.add(transportSecurityFeature);
  features.preAuth.add(saslMechanismsFeature(() => [anonymousMechanism()]));
  features.postAuth.add(resourceBindingFeature);
  const ctx: C2SContext = {
    config,
    router,
    log: silentLogger,
    limiter: new AuthLimiter(),
    resumption: new ResumptionRegistry(),
    isAnonymousHost: (h) => h === config.anonymousHost,
    isUserHost: (h) => h === 'localhost' || h === config.anonymousHost,
    mechanisms: () => [anonymousMechanism()],
    features,
    connections,
    sendBudget: new SendBudget(config.limits.maxTotalSendBufferBytes, () => connections),
  };
  const sessions = await Promise.all(servers.map((ws, i) => shippedSession(ctx, ws, i, coalescer)));
  // A session the send-buffer bound dropped has closed its socket and left the router.
  const drops = () => sessions.filter((s) => !s.connected).length;
  const teardown = async () => {
    // Leave the sockets open for the next scenario: unbind the sessions without closing their transports.
    for (const s of sessions) router.unbind(s);
    await archive?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  return { router, muc, sessions, drops, teardown, fanout };
}

function joinStanza(room: string, nick: string, history = ''): Element {
  return parse(
    `<presence xmlns="jabber:client" to="${room}@${HOST}/${nick}"><x xmlns="http://jabber.org/protocol/muc">${history}</x></presence>`,
  );
}

async function mucFanout(
  servers: ServerSide[],
  clients: Clients,
  durable = false,
  edgePid?: number,
  coalesceMs = COALESCE_MS,
  coalesceMaxMs = coalesceMs,
): Promise<Result & { drops: number }> {
  const { muc, sessions, drops, teardown, fanout } = await mucSetup(
    servers,
    ['moderator', 'participant', 'visitor'],
    durable,
    coalesceMs,
    coalesceMaxMs,
  );
  await muc.start();
  // Joins first, history off, so the measurement sees only the new messages.
  sessions.forEach((s, i) => s.element(joinStanza('bench', i === 0 ? 'Sender' : `V${i}`, '<history maxstanzas="0"/>')));
  await new Promise((r) => setTimeout(r, 500));
  fanout.seconds = fanout.recipients = 0;
  const sender = sessions[0];
  const res = await rounds(
    clients,
    (i) => {
      sender.element(
        parse(
          `<message xmlns="jabber:client" to="bench@${HOST}" type="groupchat" id="m${i}">` +
            `<body>message ${i} t=${stamp()} lorem ipsum dolor sit amet</body>` +
            `<origin-id xmlns="urn:xmpp:sid:0" id="0c2a9d2e-5a3c-4c4f-9a8e-${String(i).padStart(12, '0')}"/></message>`,
        ),
      );
    },
    servers.length,
    edgePid,
  );
  await teardown();
  const loopUs = fanout.recipients ? (fanout.seconds * 1e6) / fanout.recipients : undefined;
  return { ...res, drops: drops(), loopUs };
}

/** N more client sockets, accepted by an HTTP server that hands each upgrade to a WebSocket edge process. */
async function edgeSockets(n: number, clients: Clients) {
  const sides: EdgeTransport[] = [];
  const link = new EdgeLink(
    {
      maxStanzaSize: 256 * 1024,
      secure: true,
      // The edge holds frames as the in-process rounds it is compared with (fixed window COALESCE_MS).
      coalescing: {
        windowMs: COALESCE_MS,
        maxHeldBytes: validateConfig({}).c2s.coalesceMaxBytes,
        maxWindowMs: COALESCE_MS,
        writesPerSecond: validateConfig({}).c2s.coalesceWritesPerSecond,
        minFanoutPerSecond: validateConfig({}).c2s.coalesceMinFanoutPerSecond,
      },
      accept: (t) => sides.push(t),
      // Only upgrades this bench hands over: no listener is shared with this edge.
      addressOf: () => '127.0.0.1',
      maxBacklogBytes: 256 * 1024 * 1024,
      log: console,
    },
    () => undefined,
  );
  await link.ready;
  const http = createHttp();
  http.on('upgrade', (req, socket, head) => link.handoff(req, socket as Socket, head, '127.0.0.1'));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const port = (http.address() as { port: number }).port;
  await clients.request({ cmd: 'connect', port, n }, 'connected', 120_000);
  while (sides.length < n) await new Promise((r) => setTimeout(r, 10));
  return {
    sides,
    pid: link.pid!,
    stats: link.stats,
    close: async () => {
      await link.stop();
      http.close();
    },
  };
}

/** N−1 viewers join at once: time until every one has self-presence, 20 history messages and the subject. */
async function joinStorm(
  servers: WebSocket[],
  clients: Clients,
  broadcast: Array<'moderator' | 'participant' | 'visitor'>,
): Promise<{ ms: number; frames: number }> {
  const { muc, sessions, teardown } = await mucSetup(servers, broadcast);
  await muc.start();
  const owner = sessions[0];
  owner.element(joinStanza('storm', 'Owner'));
  for (let i = 0; i < 20; i++)
    owner.element(
      parse(`<message xmlns="jabber:client" to="storm@${HOST}" type="groupchat"><body>history ${i}</body></message>`),
    );
  await new Promise((r) => setTimeout(r, 200));
  await clients.request({ cmd: 'storm' }, 'storm-ready');
  const done = clients.request({ cmd: 'noop' }, 'storm-done', 120_000);
  const start = performance.now();
  for (let i = 1; i < sessions.length; i++) sessions[i].element(joinStanza('storm', `V${i}`));
  await done;
  const ms = performance.now() - start;
  await new Promise((r) => setTimeout(r, 300));
  const { frames } = await clients.request<{ frames: number }>({ cmd: 'report' }, 'report');
  await teardown();
  return { ms, frames };
}

/** Paced mode: raw ws, MUC held to the end of the tick, MUC with the coalescing window, in turn, twice. */
async function pacedComparison(servers: WebSocket[], clients: Clients): Promise<void> {
  const n = servers.length;
  console.log(
    `paced: ${RATE} messages/s (${(RATE * n).toLocaleString('en')} deliveries/s wanted), ${MESSAGES} messages per run`,
  );
  await raw(servers, clients); // warm-up (JIT)
  await mucFanout(servers, clients, false, undefined, 0);
  const runs: Array<[string, Result & { drops?: number }]> = [];
  for (let pass = 1; pass <= 2; pass++) {
    runs.push([`raw ws, corked per tick (pass ${pass})`, await raw(servers, clients)]);
    runs.push([`MUC, coalesceMs 0 (pass ${pass})`, await mucFanout(servers, clients, false, undefined, 0)]);
    if (COALESCE_MS > 0) {
      runs.push([`raw ws, held ${COALESCE_MS} ms (pass ${pass})`, await rawWindowed(servers, clients, COALESCE_MS)]);
      const frames = await rawFramesWindowed(servers, clients, COALESCE_MS);
      runs.push([`raw frames, held ${COALESCE_MS} ms (pass ${pass})`, frames]);
    }
    runs.push([
      `MUC, coalesceMs ${COALESCE_MS} (pass ${pass})`,
      await mucFanout(servers, clients, false, undefined, COALESCE_MS),
    ]);
    if (COALESCE_MAX_MS > COALESCE_MS)
      runs.push([
        `MUC, coalesceMs ${COALESCE_MS}→${COALESCE_MAX_MS} (pass ${pass})`,
        await mucFanout(servers, clients, false, undefined, COALESCE_MS, COALESCE_MAX_MS),
      ]);
  }
  console.log('');
  console.log(
    `${'path'.padEnd(36)} ${'µs CPU/delivery'.padStart(16)} ${'deliveries/s'.padStart(13)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'server core'.padStart(12)} ${'loop µs/rcpt'.padStart(13)}`,
  );
  for (const [label, r] of runs) {
    // Share of one core the server thread used while delivering (CPU per delivery × deliveries per second).
    const core = (r.cpuUs * r.deliveriesPerSec) / 1e6;
    console.log(
      `${label.padEnd(36)} ${r.cpuUs.toFixed(2).padStart(16)} ${Math.round(r.deliveriesPerSec).toLocaleString('en').padStart(13)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${`${(core * 100).toFixed(0)}%`.padStart(12)} ${(r.loopUs === undefined ? '' : r.loopUs.toFixed(2)).padStart(13)}${r.drops ? `  ${r.drops} slow sockets dropped` : ''}`,
    );
  }
}

async function main(): Promise<void> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as { port: number }).port;
  const clients = new Clients();
  const servers = await openSockets(wss, port, N, clients);
  console.log(
    `muc-fanout: ${N} occupants on loopback WebSockets (clients in a worker thread), ${MESSAGES} messages in rounds of ${BATCH}, node ${process.version}`,
  );

  if (RATE > 0) {
    await pacedComparison(servers, clients);
    await clients.request({ cmd: 'close' }, 'closed');
    await clients.terminate();
    for (const ws of servers) ws.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    return;
  }
  await raw(servers, clients); // warm-up (JIT) for both paths
  await mucFanout(servers, clients);
  const r = await raw(servers, clients);
  const m = await mucFanout(servers, clients);
  const fmt = (x: Result) =>
    `${Math.round(x.deliveriesPerSec).toLocaleString('en')} deliveries/s, p50 ${x.p50.toFixed(1)} ms, p99 ${x.p99.toFixed(1)} ms, ${x.cpuUs.toFixed(2)} µs server CPU each (${x.deliveries} deliveries)`;
  console.log(`raw ws broadcast : ${fmt(r)}`);
  console.log(`MUC fan-out      : ${fmt(m)}${m.drops ? `, ${m.drops} slow sockets dropped` : ''}`);
  const ratio = m.deliveriesPerSec / r.deliveriesPerSec;
  console.log(`ratio MUC/raw    : ${ratio.toFixed(2)} (target >= 0.50) ${ratio >= 0.5 ? 'OK' : 'BELOW TARGET'}`);
  console.log(`CPU MUC/raw      : ${(m.cpuUs / r.cpuUs).toFixed(2)} (server main thread, µs per delivery)`);
  if (WITH_ARCHIVE) {
    await mucFanout(servers, clients, true); // warm-up
    const d = await mucFanout(servers, clients, true);
    console.log(`MUC + durable archive: ${fmt(d)}${d.drops ? `, ${d.drops} slow sockets dropped` : ''}`);
    console.log(
      `ratio archive/memory : ${(d.deliveriesPerSec / m.deliveriesPerSec).toFixed(2)} (sender's reflection waits for the write + fdatasync)`,
    );
  }

  const limited = await joinStorm(servers, clients, ['moderator']);
  console.log(
    `join storm of ${N}, presences to moderators only: all have self-presence+history+subject after ${limited.ms.toFixed(0)} ms (${limited.frames} frames)`,
  );
  if (N <= STORM_ALL_MAX) {
    const everyone = await joinStorm(servers, clients, ['moderator', 'participant', 'visitor']);
    console.log(
      `join storm of ${N}, presences to all roles:       all have self-presence+history+subject after ${everyone.ms.toFixed(0)} ms (${everyone.frames} frames)`,
    );
  } else {
    console.log(
      `join storm of ${N}, presences to all roles: skipped (N > --storm-all-max ${STORM_ALL_MAX}: O(N²) frames)`,
    );
  }

  if (WITH_EDGE) {
    // The same fan-out with the sockets in the WebSocket edge process (websocket.edge = process), right after
    // the in-process one again, on the same client worker.
    const edge = await edgeSockets(N, clients);
    await mucFanout(edge.sides, clients, false, edge.pid); // warm-up
    const inProcess = await mucFanout(servers, clients);
    const batches0 = edge.stats.batchesOut;
    const e = await mucFanout(edge.sides, clients, false, edge.pid);
    const batches = edge.stats.batchesOut - batches0;
    console.log(`MUC fan-out, in-process again  : ${fmt(inProcess)}`);
    console.log(`MUC fan-out, edge process      : ${fmt(e)}${e.drops ? `, ${e.drops} slow sockets dropped` : ''}`);
    console.log(
      `  edge: main thread ${e.cpuUs.toFixed(2)} µs + edge process ${e.edgeCpuUs!.toFixed(2)} µs per delivery ` +
        `(in-process: ${inProcess.cpuUs.toFixed(2)} µs on the main thread); ${batches} pipe writes to the edge for ${e.deliveries} deliveries`,
    );
    await edge.close();
  }

  await clients.request({ cmd: 'close' }, 'closed');
  await clients.terminate();
  for (const ws of servers) ws.terminate();
  await new Promise<void>((r) => wss.close(() => r()));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
