// Shapes shared by the archive store and its users (MUC rooms, MAM).

/** One archived groupchat message as the room stored it. */
export interface ArchivedMessage {
  /** Archive UID, also the XEP-0359 stanza-id the room stamps on the reflected message. */
  id: string;
  /** Position in the room's archive (dense, increasing; ids are derived from it). */
  seq: number;
  /** Milliseconds since the epoch; never decreases within a room. */
  ts: number;
  nick: string;
  occupantId?: string;
  /** Sender's real full JID, shown only to those the room's whois setting allows. */
  realJid?: string;
  /** The message as broadcast, serialized (without `to`; see prepareForArchive in src/mam/archivable.ts). */
  xml: string;
  /** Set when `xml` is a retraction tombstone that replaced the original. */
  retracted?: boolean;
}

export interface AppendInput {
  /** Defaults to now; clamped so that timestamps never go backwards within a room. */
  ts?: number;
  nick: string;
  occupantId?: string;
  realJid?: string;
  xml: string;
  /** Imports only: the id another server gave this message (kept so clients' references still resolve). */
  keepId?: string;
}

/** Matches a message when ANY given criterion matches (as livechat's archive search: occupant JID or occupant-id). */
export interface WithFilter {
  nick?: string;
  /** Bare JID matches any resource; a full JID matches exactly. */
  realJid?: string;
  occupantId?: string;
}

export interface ArchiveQuery {
  /** Inclusive bounds in ms since the epoch. */
  start?: number;
  end?: number;
  with?: WithFilter;
  /** Exclusive bounds by archive id (XEP-0313 before-id/after-id). */
  afterId?: string;
  beforeId?: string;
  /** Fetch exactly these ids (all must exist). Other filters still apply. */
  ids?: string[];
  /** Page size (0 = count only). */
  max: number;
  /** RSM cursors: page forward after this id, or backward before this id ('' = the last page). */
  after?: string;
  before?: string;
  /** RSM index: skip this many items of the result set (forward paging only). */
  index?: number;
}

export interface ArchiveResult {
  /** Chronological order, always (flip-page is the protocol layer's business). */
  items: ArchivedMessage[];
  first?: string;
  last?: string;
  /** True when no more items exist in the paging direction (forward: newer; backward: older). */
  complete: boolean;
  /** Size of the whole result set, when it is cheap to know (no `with` filter). */
  count?: number;
  /** Position of `first` in the whole result set, when cheap. */
  index?: number;
}

/** An id given in a query (cursor, before-id, after-id, ids) is not (or no longer) in the archive. */
export class ArchiveItemNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`archive id not found: ${id}`);
  }
}

/** Too many bytes are waiting to be written; the caller should refuse the message (resource-constraint). */
export class ArchiveOverloadedError extends Error {
  constructor() {
    super('archive write queue is full');
  }
}
