// What a room needs from a message archive: store a broadcast message (getting its stanza-id), the latest
// messages for history on join, and retraction. The default keeps a bounded ring per room in memory; the durable
// XEP-0313 archive implements the same interface and is plugged in by the server.
import { randomBytes } from 'node:crypto';
import { Element, el } from '../xmpp/xml.js';
import { MUC_NS } from './types.js';

/** Which groupchat messages are kept in history and archive (XEP-0313 §5.1.2, XEP-0334 hints). */
export { isArchivable } from '../xmpp/archivable.js';

export interface ArchiveEntry {
  /** The XEP-0359 stanza-id. */
  id: string;
  /** Milliseconds since the epoch. */
  ts: number;
  nick: string;
  /** Bare JID of the author. */
  realJid: string;
  occupantId?: string;
  /** The message as broadcast: from room/nick, with <stanza-id/>, without `to`. Never mutated once stored. */
  stanza: Element;
}

export interface AppendRequest {
  ts: number;
  nick: string;
  realJid: string;
  occupantId?: string;
  stanza: Element;
  /** The room has archiving (MAM) enabled: a durable archive stores it; history on join uses it either way. */
  persist: boolean;
}

export interface RoomArchive {
  /**
   * Stores a groupchat message. The archive assigns the stanza-id, appends
   * `<stanza-id xmlns="urn:xmpp:sid:0" id=… by=roomJid/>` to `req.stanza`, and returns the id. Must not block.
   */
  append(roomJid: string, req: AppendRequest): string;
  /** Up to `max` latest entries, oldest first, from memory (history on join must be cheap). */
  tail(roomJid: string, max: number): ArchiveEntry[];
  /** One recent entry by stanza-id, if still known in memory. */
  get(roomJid: string, id: string): ArchiveEntry | undefined;
  /** Replaces a message by its tombstone (same id); false when unknown. */
  retract(roomJid: string, id: string, tombstone: Element): boolean;
  /** The room was destroyed: forget it. */
  dropRoom(roomJid: string): void;
  /** A persistent room was loaded: a durable archive may fill its in-memory tail. */
  warm?(roomJid: string): Promise<void>;
  /**
   * A durable archive resolves this once the message is on disk. The room holds back the sender's reflection
   * until then: a reflected message is never lost, even if the process is killed right after.
   */
  whenDurable?(roomJid: string, id: string): Promise<void> | null;
  /** Any stored entry by stanza-id, also older ones that are no longer in memory (retraction of old messages). */
  lookup?(roomJid: string, id: string): Promise<ArchiveEntry | undefined>;
}

/** Adds the stanza-id element a room stamps on archived messages. */
export function addStanzaId(stanza: Element, id: string, by: string): void {
  stanza.append(el('stanza-id', { xmlns: MUC_NS.SID, id, by }));
}

let counter = 0;
const prefix = randomBytes(6).toString('base64url');

/** Unique, short, not guessable across restarts: random process prefix + time + counter. */
export function newStanzaId(): string {
  counter = (counter + 1) % 0x1000000;
  return `${prefix}${Date.now().toString(36)}${counter.toString(36)}`;
}

/** In-memory default: a bounded ring per room; nothing survives a restart. */
export class MemoryArchive implements RoomArchive {
  private rooms = new Map<string, ArchiveEntry[]>();
  constructor(private readonly perRoom = 100) {}

  append(roomJid: string, req: AppendRequest): string {
    const id = newStanzaId();
    addStanzaId(req.stanza, id, roomJid);
    let ring = this.rooms.get(roomJid);
    if (!ring) this.rooms.set(roomJid, (ring = []));
    ring.push({ id, ts: req.ts, nick: req.nick, realJid: req.realJid, occupantId: req.occupantId, stanza: req.stanza });
    // Trim in batches so the common append is O(1) amortised.
    if (ring.length > this.perRoom * 2) ring.splice(0, ring.length - this.perRoom);
    return id;
  }

  tail(roomJid: string, max: number): ArchiveEntry[] {
    const ring = this.rooms.get(roomJid);
    if (!ring || max <= 0) return [];
    return ring.slice(Math.max(0, ring.length - Math.min(max, this.perRoom)));
  }

  get(roomJid: string, id: string): ArchiveEntry | undefined {
    const ring = this.rooms.get(roomJid);
    if (!ring) return undefined;
    for (let i = ring.length - 1; i >= 0; i--) if (ring[i].id === id) return ring[i];
    return undefined;
  }

  retract(roomJid: string, id: string, tombstone: Element): boolean {
    const ring = this.rooms.get(roomJid);
    if (!ring) return false;
    for (let i = ring.length - 1; i >= 0; i--) {
      if (ring[i].id === id) {
        ring[i] = { ...ring[i], stanza: tombstone };
        return true;
      }
    }
    return false;
  }

  dropRoom(roomJid: string): void {
    this.rooms.delete(roomJid);
  }
}
