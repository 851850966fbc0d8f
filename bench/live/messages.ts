// Messages between the orchestrating main process and the client worker processes. Plain data only (sent over the
// IPC channel with structured-clone serialization).

/** Where and how the simulated viewers connect; identical for every target. */
export interface ClientEndpoint {
  wsUrl: string;
  boshUrl: string;
  anonHost: string; // e.g. anon.localhost
  room: string; // bare room JID
}

export interface ViewerOptions {
  transport: 'websocket' | 'bosh';
  deflate: boolean; // offer permessage-deflate, as browsers do
  vcards: 'all' | 'self' | 'none'; // 'all': self, room and every occupant seen (ConverseJS); 'self': self and room only
  vcardOnRename: boolean; // also fetch the vCard of a renamed occupant under its new nick
  mamMax: number; // MAM page size asked on join
  /**
   * Stream management (XEP-0198) where the server offers it, as ConverseJS does: `<enable resume='true'/>` after
   * bind, an `<a/>` for every `<r/>` of the server, and an `<r/>` of its own after every `smRequestEvery` stanzas it
   * sends.
   */
  streamManagement: boolean;
  /** ConverseJS's `smacks_max_unacked_stanzas`: 20 in the shipped web chat, 5 by ConverseJS's default. */
  smRequestEvery: number;
  /**
   * 'mam': the join asks the room for no history (`<history maxstanzas='0'/>`, as ConverseJS does in a room that
   * advertises MAM) and the viewer has its history when its MAM page arrives; 'muc': the join takes the room's
   * default history and the viewer has it when the subject (the end of that history) arrives.
   */
  joinHistory: 'mam' | 'muc';
  iqTimeoutMs: number; // an iq without answer after this long counts as a timeout
  joinTimeoutMs: number; // a viewer without the room subject (its join answered) after this long counts as a failed join
  /** Room configuration the room's creator submits instead of an instant room (field var → values). */
  roomConfig?: Record<string, string[]>;
}

export type Phase =
  | { id: number; kind: 'join'; from: number; to: number; ratePerSec: number } // viewers [from,to), 0 = all at once
  | { id: number; kind: 'chat'; ratePerSec: number; durationMs: number; senders: number } // room-wide rate
  | { id: number; kind: 'nick'; windowMs: number } // every joined viewer changes nick, spread over the window
  | { id: number; kind: 'leave' }; // every viewer leaves the room and closes its stream

export type ToWorker =
  | { type: 'init'; workerId: number; workers: number; endpoint: ClientEndpoint; options: ViewerOptions }
  | { type: 'phase'; phase: Phase }
  /** Run a storm of `viewers` (this worker's share) against another server, counted nowhere, then leave. */
  | { type: 'warm-up'; endpoint: ClientEndpoint; viewers: number }
  | { type: 'stop' };

/** Latency samples (ms) gathered since the previous report, by kind. */
export interface SampleBatch {
  connect: number[]; // connection started → stream bound (WebSocket or BOSH session, SASL ANONYMOUS, bind)
  opened: number[]; // connection started → transport open (WebSocket upgrade answered; BOSH: session created)
  authed: number[]; // transport open → SASL success
  preJoin: number[]; // stream bound → join presence sent (ConverseJS's two rounds of pre-join requests)
  joinToSeated: number[]; // ws open started → seated in the room (the join's own presence and the subject arrived)
  joinToHistory: number[]; // ws open started → history shown to the viewer (its MAM page; --join-history muc: the subject)
  presenceToHistory: number[]; // join presence sent → history shown to the viewer
  mam: number[]; // MAM query → fin
  vcard: number[]; // vCard iq round trip (occupants, self, room)
  delivery: number[]; // groupchat message send → receipt, per receiving viewer
  nick: number[]; // nick change presence → own presence with status 110 under the new nick
}

export interface WorkerReport {
  type: 'report';
  workerId: number;
  phaseId: number;
  cpuMicros: number; // this worker process's CPU (user + system) since it started
  cpuPct: number; // its share of one core over the last ~1 s

  samples: SampleBatch;
  // counters since the previous report
  bytesPayload: number; // WebSocket payload bytes received (after inflate, if any)
  deliveries: number; // live groupchat messages received
  presences: number; // room presences received
  sent: number; // chat messages sent
  vcardsReceived: number;
  vcardBytes: number;
  /** vCard answers that carried a PHOTO (an embedded avatar). */
  vcardPhotos: number;
  /** XEP-0198 ack requests the viewers sent, and the server's they received. */
  smRequestsSent: number;
  smRequestsReceived: number;
  lastVcardAt: number; // latest absolute time a vCard answer arrived since the last report (0 if none)
  errors: Record<string, number>; // kind → count (iq errors by purpose:condition, stream errors, closes)
  // gauges
  connected: number;
  joined: number; // has received the room subject
  ready: number; // has also got its MAM page
  outstandingIqs: number;
  lateIqs: number; // timed out, answer still expected
  lastJoinAt: number; // latest absolute time a viewer of this worker got its history (0 if none)
  lastSeatedAt: number; // latest absolute time a viewer of this worker was seated (0 if none)
  phaseDone: boolean; // the worker finished its share of the current phase
}

export interface WorkerFinal {
  type: 'final';
  workerId: number;
  wireBytes: number; // bytes read from the sockets, including HTTP upgrade and frame headers
  viewers: number;
}

/** A worker's warm-up is over: how many of its viewers had their history, and its CPU for it. */
export interface WorkerWarmed {
  type: 'warmed';
  workerId: number;
  viewers: number;
  shown: number;
  cpuMicros: number;
}

export type FromWorker =
  WorkerReport | WorkerFinal | WorkerWarmed | { type: 'ready'; workerId: number } | { type: 'fatal'; message: string };

export function emptySamples(): SampleBatch {
  return {
    connect: [],
    opened: [],
    authed: [],
    preJoin: [],
    joinToSeated: [],
    joinToHistory: [],
    presenceToHistory: [],
    mam: [],
    vcard: [],
    delivery: [],
    nick: [],
  };
}
