// The durable archive behind the MUC's interfaces: `RoomArchive` (src/muc/archive.ts: append with stanza-id,
// history tail, get, retract, drop, warm) and `MucMamHandler` (src/muc/features/mam.ts: XEP-0313 queries).
// Wiring (src/index.ts):
//   const archive = new FileArchive(dataDir, config.archive, { pruneUnopened: false }); archive.startPruning();
//   const bridge = new MucArchiveBridge(archive, { send: (r) => router.deliverPrepared(r.to, r) });
//   new MucService({ ..., archive: bridge, mam: bridge });   ...   await archive.close() on stop.
// Rooms are keyed by their bare JID. Persistent rooms are opened (warm) when the MUC starts; any other room is
// new, so it is opened with openSync, which clears a folder left by an earlier room of the same name.
import type { ArchiveEntry, AppendRequest, RoomArchive as MucRoomArchive } from '../muc/archive.js';
import type { MucMamHandler, MucMamRequest } from '../muc/features/mam.js';
import { FileArchive, type RoomArchive } from '../storage/archive.js';
import { ArchiveOverloadedError, type ArchivedMessage } from '../storage/types.js';
import { StanzaError } from '../xmpp/errors.js';
import { parse } from 'ltx';
import { randomBytes } from 'node:crypto';
import { Element, el } from '../xmpp/xml.js';
import { NS } from '../xmpp/namespaces.js';
import { prepareForArchive } from './archivable.js';
import { MamAccess, SendResult, runMamQuery } from './handler.js';

export interface BridgeOptions {
  /** Delivers MAM result messages (to the requester's full JID). */
  send: SendResult;
  /** Who may do what; the default reads the room: whois / moderator role for real JIDs, admin+ for filters. */
  access?: (req: MucMamRequest) => MamAccess;
  /** Where failures that have no requester to answer (background deletes) are reported. */
  onError?: (message: string) => void;
}

function defaultAccess({ room, from }: MucMamRequest): MamAccess {
  const bare = from.split('/')[0];
  const aff = room.affiliationOf(bare);
  const isModerator = room.occupantsOf(bare).some((o) => o.role === 'moderator');
  return {
    canRead: aff !== 'outcast', // the MUC feature already refused members-only outsiders
    showRealJids: room.config.whois === 'anyone' || isModerator || aff === 'owner' || aff === 'admin',
    canFilterByJid: aff === 'owner' || aff === 'admin',
  };
}

interface MemEntry extends ArchiveEntry {
  seq: number;
}

let memCounter = 0;
const memPrefix = randomBytes(4).toString('base64url');

export class MucArchiveBridge implements MucRoomArchive, MucMamHandler {
  /** Parsed stanzas of hot messages, so history on join never re-parses XML. */
  private readonly elements = new WeakMap<ArchivedMessage, Element>();
  /** Messages of rooms with archiving off: history on join only, never written. */
  private readonly memory = new Map<string, MemEntry[]>();

  constructor(
    readonly archive: FileArchive,
    private readonly opts: BridgeOptions,
  ) {}

  private room(roomJid: string): RoomArchive {
    return this.archive.get(roomJid) ?? this.archive.openSync(roomJid);
  }

  append(roomJid: string, req: AppendRequest): string {
    if (!req.persist) {
      const id = `${memPrefix}${Date.now().toString(36)}${(memCounter = (memCounter + 1) % 0x1000000).toString(36)}`;
      req.stanza.append(el('stanza-id', { xmlns: NS.STANZA_ID, id, by: roomJid }));
      let ring = this.memory.get(roomJid);
      if (!ring) this.memory.set(roomJid, (ring = []));
      ring.push({
        id,
        ts: req.ts,
        nick: req.nick,
        realJid: req.realJid,
        occupantId: req.occupantId,
        stanza: req.stanza,
        seq: 0,
      });
      const keep = Math.max(20, this.archive.config.hotTail);
      if (ring.length > keep * 2) ring.splice(0, ring.length - keep);
      return id;
    }
    const ra = this.room(roomJid);
    let m: ArchivedMessage;
    try {
      m = ra.append({
        ts: req.ts,
        nick: req.nick,
        occupantId: req.occupantId,
        realJid: req.realJid,
        xml: prepareForArchive(req.stanza, roomJid),
      });
    } catch (err) {
      // The disk cannot keep up: refuse the message (the sender gets an error) rather than lose it later.
      if (err instanceof ArchiveOverloadedError)
        throw new StanzaError('resource-constraint', 'The archive is busy, try again', 'wait');
      throw err;
    }
    req.stanza.append(el('stanza-id', { xmlns: NS.STANZA_ID, id: m.id, by: roomJid }));
    this.elements.set(m, req.stanza);
    return m.id;
  }

  /**
   * Resolves once the message is on disk: the room awaits it before reflecting a message to its sender. Null
   * when there is nothing to wait for (already written, or a room that does not archive).
   */
  whenDurable(roomJid: string, id: string): Promise<void> | null {
    const ra = this.archive.get(roomJid);
    return ra && ra.isPending(id) ? ra.whenDurable(id) : null;
  }

  private entry(roomJid: string, m: ArchivedMessage): ArchiveEntry {
    let stanza = this.elements.get(m);
    if (!stanza) {
      try {
        stanza = parse(m.xml);
      } catch {
        stanza = el('message', { type: 'groupchat', from: `${roomJid}/${m.nick}` });
      }
      stanza.append(el('stanza-id', { xmlns: NS.STANZA_ID, id: m.id, by: roomJid }));
      this.elements.set(m, stanza);
    }
    return { id: m.id, ts: m.ts, nick: m.nick, realJid: m.realJid ?? '', occupantId: m.occupantId, stanza };
  }

  tail(roomJid: string, max: number): ArchiveEntry[] {
    if (max <= 0) return [];
    const ra = this.archive.get(roomJid);
    const hot = ra ? ra.tail(max) : [];
    // The room fell out of the hot-room cache: this joiner gets what memory has, and the tail is read back
    // from disk for the next ones (history on join itself never waits for the disk).
    if (ra && hot.length < max && ra.stats().messages > hot.length) void ra.history(max).catch(() => undefined);
    const durable = hot.map((m) => this.entry(roomJid, m));
    const mem = this.memory.get(roomJid);
    if (!mem?.length) return durable;
    return durable
      .concat(mem.slice(-max))
      .sort((a, b) => a.ts - b.ts)
      .slice(-max);
  }

  get(roomJid: string, id: string): ArchiveEntry | undefined {
    const mem = this.memory.get(roomJid)?.find((e) => e.id === id);
    if (mem) return mem;
    const m = this.archive.get(roomJid)?.peek(id);
    return m ? this.entry(roomJid, m) : undefined;
  }

  async lookup(roomJid: string, id: string): Promise<ArchiveEntry | undefined> {
    const hit = this.get(roomJid, id);
    if (hit) return hit;
    const ra = this.archive.get(roomJid);
    if (!ra || !ra.has(id)) return undefined;
    const m = await ra.get(id);
    return m ? this.entry(roomJid, m) : undefined;
  }

  retract(roomJid: string, id: string, tombstone: Element): boolean {
    const ring = this.memory.get(roomJid);
    const i = ring ? ring.findIndex((e) => e.id === id) : -1;
    if (ring && i >= 0) {
      ring[i] = { ...ring[i], stanza: tombstone };
      return true;
    }
    const ra = this.archive.get(roomJid);
    if (!ra || !ra.has(id)) return false;
    void ra.retract(id, prepareForArchive(tombstone, roomJid));
    const m = ra.peek(id);
    if (m) this.elements.set(m, tombstone);
    return true;
  }

  dropRoom(roomJid: string): void {
    this.memory.delete(roomJid);
    this.archive
      .deleteRoom(roomJid)
      .catch((err: Error) => this.opts.onError?.(`archive: deleting ${roomJid} failed: ${err.message}`));
  }

  async warm(roomJid: string): Promise<void> {
    await this.archive.open(roomJid);
  }

  async query(req: MucMamRequest): Promise<Element | void> {
    const ra = this.room(req.room.jid);
    const access = (this.opts.access ?? defaultAccess)(req);
    return runMamQuery(req.iq, ra, access, this.opts.send, {
      archiveJid: req.room.jid,
      maxPage: this.archive.config.maxPage,
    });
  }
}
