// The MUC service (XEP-0045) at room.<domain>: a router component that owns the rooms, answers service disco,
// applies the room creation policy and keeps persistent rooms on disk.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Element } from '../xmpp/xml.js';
import { el } from '../xmpp/xml.js';
import { PreSerializedElement } from '../xmpp/prepared.js';
import { parseJid, type JID, bareString } from '../xmpp/jid.js';
import { StanzaError, errorReply } from '../xmpp/errors.js';
import type { Component, LocalSession } from '../xmpp/session-types.js';
import type { Router } from '../xmpp/router.js';
import type { Logger } from '../log.js';
import { Hooks } from './hooks.js';
import { MemoryArchive, type RoomArchive } from './archive.js';
import type { CreationCallback, MucConfig, RoomSeed } from './config.js';
import { RoomStore, type StoredRoom } from './persistence.js';
import { Room, RoomIqRoutes, type MucEvents, type RoomHost } from './room.js';
import { installFeatures, type MucMamHandler } from './features/index.js';
import { setRoomTerms } from './features/terms.js';
import { ChannelTeams } from './channel-teams.js';
import type { AvatarService } from '../avatars/service.js';
import { customEmojis, setCustomEmojis } from './features/emoji-only.js';
import { MUC_NS, type Affiliation, type RoomConfig } from './types.js';

export interface MucServiceDeps {
  router: Router;
  log: Logger;
  config: MucConfig;
  /** Persistent rooms go to <dataDir>/muc/; null keeps them in memory only (tests). */
  dataDir: string | null;
  /** Defaults to an in-memory ring per room. */
  archive?: RoomArchive;
  /** Server admins are owners of every room. */
  isServerAdmin?: (bareJid: string) => boolean;
  /** For creation policy 'accounts': whether a bare JID is a registered account (not an anonymous viewer). */
  isAccount?: (bareJid: string) => boolean;
  /** For creation policy 'callback' (the PeerTube plugin decides per video). */
  onCreateRoom?: CreationCallback;
  /** XEP-0313 queries on rooms, when the archive module is wired. */
  mam?: MucMamHandler;
  /** Reports each room message's fan-out time (/metrics). */
  observeFanout?: (seconds: number, recipients: number) => void;
  /** Vetoes new joins to an existing room (the plugin: a video whose chat is off); occupants already in stay. */
  mayJoin?: (roomJid: string, userBareJid: string) => boolean;
  /** Avatars for occupants (XEP-0153 hashes, vCards of room/nick). */
  avatars?: AvatarService;
  /** Whether a bare JID is an anonymous login; defaults to livechat's layout (anon.<domain> next to room.<domain>). */
  isAnonymous?: (bareJid: string) => boolean;
}

interface Pending {
  queue: Element[];
  /** A stored room whose archive is still being opened: asks for it now (it has traffic). */
  open?: () => void;
}

const MAX_QUEUED = 200;

export class MucService implements Component {
  readonly domain: string;
  readonly hooks = new Hooks<MucEvents>();
  readonly iq = new RoomIqRoutes();
  readonly rooms = new Map<string, Room>();
  private pending = new Map<string, Pending>();
  private store: RoomStore | null;
  private stored = new Set<string>();
  private host: RoomHost;
  private started = false;
  /** The service's disco#info: fixed once built, asked by every viewer on login, so serialized once. */
  private preparedInfo: PreSerializedElement | undefined;
  readonly archive: RoomArchive;
  /** Moderator teams per channel, applied to every room of the channel. */
  readonly teams: ChannelTeams;

  constructor(private deps: MucServiceDeps) {
    this.domain = deps.config.host;
    this.archive = deps.archive ?? new MemoryArchive(Math.max(deps.config.maxHistoryLength, 20));
    this.store = deps.dataDir ? new RoomStore(join(deps.dataDir, 'muc'), deps.log) : null;
    const anonSuffix = `@anon.${deps.config.host.replace(/^[^.]+\./, '')}`;
    const isAnonymous = deps.isAnonymous ?? ((bare: string) => bare.endsWith(anonSuffix));
    this.host = {
      router: deps.router,
      hooks: this.hooks,
      iq: this.iq,
      config: deps.config,
      archive: this.archive,
      log: deps.log,
      isServerAdmin: (bare) => deps.isServerAdmin?.(bare) ?? false,
      isAnonymous,
      observeFanout: deps.observeFanout,
      persist: (room) => this.persist(room),
      roomEmpty: (room) => {
        if (!room.config.persistent) this.forget(room);
      },
      roomDestroyed: (room) => this.forget(room),
    };
    this.teams = new ChannelTeams(deps.dataDir, this.hooks, () => this.rooms.values());
    installFeatures({
      hooks: this.hooks,
      iq: this.iq,
      config: deps.config,
      archive: this.archive,
      log: deps.log,
      mam: deps.mam,
      avatars: deps.avatars,
      isAnonymous,
    });
  }

  get config(): MucConfig {
    return this.deps.config;
  }
  get router(): Router {
    return this.deps.router;
  }

  /** Loads persistent rooms and registers the component with the router. */
  async start(): Promise<void> {
    if (this.started) return;
    await this.teams.load();
    if (this.store) {
      for (const data of await this.store.loadAll()) this.restore(data);
    }
    if (this.config.demoRoom && !this.rooms.has(this.config.demoRoom)) {
      this.createRoom(this.config.demoRoom, { config: { persistent: true, name: 'Demo room' } });
    }
    this.deps.router.registerComponent(this);
    this.started = true;
    this.warmInBackground();
  }

  /**
   * Opens the archives of stored rooms after start() returns, so a restart accepts connections without reading
   * every archive first. Until a room's archive is open its stanzas wait in its queue (as during room creation);
   * a room that gets traffic is opened at once, the others two at a time (so accepting connections is not starved).
   */
  private warmInBackground(): void {
    const warm = this.archive.warm;
    if (!warm) return;
    const waiting = [...this.rooms.values()].filter((r) => !this.pending.has(r.localpart));
    const opened = new Map<string, Promise<void>>();
    const open = (lp: string, jid: string): Promise<void> => {
      let p = opened.get(lp);
      if (!p) {
        p = warm.call(this.archive, jid).then(
          () => {
            const pending = this.pending.get(lp);
            this.pending.delete(lp);
            for (const s of pending?.queue ?? []) this.receive(s);
          },
          (err: unknown) => {
            // The room stays queued (then refused with resource-constraint) rather than writing over its files.
            this.deps.log.error(`muc: the archive of ${jid} could not be opened: ${(err as Error)?.message ?? err}`);
          },
        );
        opened.set(lp, p);
      }
      return p;
    };
    for (const r of waiting) this.pending.set(r.localpart, { queue: [], open: () => void open(r.localpart, r.jid) });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < waiting.length && this.started) {
        const r = waiting[next++];
        await open(r.localpart, r.jid);
      }
    };
    for (let i = 0; i < Math.min(2, waiting.length); i++) void worker();
  }

  /** Tells occupants the service is going away (332) and waits for room files to be written. */
  async stop(): Promise<void> {
    if (this.started) this.deps.router.unregisterComponent(this.domain);
    this.started = false;
    for (const room of [...this.rooms.values()]) room.shutdown();
    await this.store?.flush();
    await this.teams.flush();
  }

  getRoom(localpart: string): Room | undefined {
    return this.rooms.get(localpart.toLowerCase());
  }

  /** Creates a room programmatically (the plugin's room API); an existing room is returned as is. */
  createRoom(localpart: string, seed: RoomSeed = {}): Room {
    const lp = localpart.toLowerCase();
    const existing = this.rooms.get(lp);
    if (existing) return existing;
    const room = new Room(lp, this.host, {
      ...this.config.defaultRoomConfig,
      ...structuredClone(seed.config ?? {}),
    } as RoomConfig);
    room.occupantIdSalt = randomBytes(16).toString('base64url');
    for (const [jid, aff] of Object.entries(seed.affiliations ?? {})) {
      const j = parseJid(jid);
      const bare = j && bareString(j);
      if (bare && aff !== 'none') room.affiliations.set(bare, { affiliation: aff as Exclude<Affiliation, 'none'> });
    }
    if (seed.channel) room.data.channel = seed.channel;
    this.rooms.set(lp, room);
    this.hooks.fire('created', { room });
    this.persist(room);
    return room;
  }

  /** Replaces the service-wide terms (livechat's `chat-terms` setting) shown to every later joiner; '' shows none. */
  setTerms(text: string): void {
    this.deps.config.terms = text;
  }

  /** Sets a room's own terms (livechat's per-room terms); '' removes them. False when no such room or unchanged. */
  setRoomTerms(localpart: string, text: string): boolean {
    const room = this.getRoom(localpart);
    return room ? setRoomTerms(room, this.config.termsNickname, text) : false;
  }

  /**
   * Renames a room (the plugin: the video's title or the channel's name changed); the rest of its configuration
   * stays. Occupants get a 104 so clients re-read the room info, as livechat's room update does. False when there
   * is no such room or the name is unchanged.
   */
  setRoomName(localpart: string, name: string): boolean {
    const room = this.getRoom(localpart);
    const next = name.slice(0, 1000);
    if (!room || room.config.name === next) return false;
    room.config.name = next;
    this.persist(room);
    room.announceCodes(['104']);
    return true;
  }

  /** Sets the custom emoji shortnames a room's emoji-only mode accepts (the channel's emoji); false: no such room. */
  setCustomEmojis(localpart: string, shortnames: readonly string[]): boolean {
    const room = this.rooms.get(localpart);
    if (!room) return false;
    const before = JSON.stringify(customEmojis(room));
    setCustomEmojis(room, shortnames);
    // The plugin re-applies a channel's list on every review: only a real change is written.
    if (JSON.stringify(customEmojis(room)) !== before) this.persist(room);
    return true;
  }

  destroyRoom(localpart: string, reason?: string, alternate?: string): boolean {
    const room = this.getRoom(localpart);
    if (!room) return false;
    room.destroy(reason, alternate);
    return true;
  }

  // ---- the component ----------------------------------------------------------------------------------

  receive(stanza: Element, origin?: LocalSession, parsedTo?: JID): void {
    const keep = stanza.name !== 'presence'; // as the router: presence is not memoized
    const to = parsedTo ?? parseJid(stanza.attrs.to, keep);
    // A local session's own JID rather than the parsed-address memo: no memo entry per viewer. Without an origin
    // (the leave a session's end sends for it, a remote server's stanza) presence is parsed and not kept either.
    const from = origin && origin.fullJid === stanza.attrs.from ? origin.jid : parseJid(stanza.attrs.from, keep);
    if (!to || !from) return;
    if (!to.local) {
      this.serviceStanza(stanza, from);
      return;
    }
    const lp = to.local.toLowerCase();
    const pending = this.pending.get(lp);
    if (pending) {
      pending.open?.();
      if (pending.queue.length < MAX_QUEUED) pending.queue.push(stanza);
      else this.bounce(stanza, new StanzaError('resource-constraint', 'Room is being set up', 'wait'));
      return;
    }
    const room = this.rooms.get(lp);
    if (room) {
      if (
        this.deps.mayJoin &&
        stanza.name === 'presence' &&
        !stanza.attrs.type &&
        !room.occupantOf(from.toString()) &&
        !this.deps.mayJoin(room.jid, bareString(from))
      ) {
        this.bounce(stanza, new StanzaError('not-allowed', 'This chat room is closed', 'cancel'));
        return;
      }
      room.receive(stanza, from, to);
      return;
    }
    // No such room: only an available presence to room/nick may create it; one without a nick is a malformed
    // join (XEP-0045 §7.2.1), not a missing room.
    if (stanza.name === 'presence' && !stanza.attrs.type) {
      if (to.resource) this.create(lp, stanza, from, to);
      else this.bounce(stanza, new StanzaError('jid-malformed', 'A nickname is required', 'modify'));
      return;
    }
    if (stanza.name === 'presence' && stanza.attrs.type === 'probe') {
      this.bounce(stanza, new StanzaError('not-acceptable', undefined, 'cancel'));
      return;
    }
    if (stanza.name === 'presence' && stanza.attrs.type) return;
    this.bounce(stanza, new StanzaError('item-not-found', undefined, 'cancel'));
  }

  private bounce(stanza: Element, err: StanzaError): void {
    const reply = errorReply(stanza, err);
    if (!reply) return;
    delete reply.attrs.xmlns;
    this.deps.router.route(reply);
  }

  private create(lp: string, stanza: Element, from: JID, to: JID): void {
    const creator = bareString(from);
    const roomJid = `${lp}@${this.domain}`;
    const policy = this.config.creation;
    if (policy === 'accounts' && !(this.deps.isAccount?.(creator) ?? false) && !this.deps.isServerAdmin?.(creator)) {
      this.bounce(stanza, new StanzaError('not-allowed', 'Room creation is restricted', 'cancel'));
      return;
    }
    if (policy !== 'callback' || !this.deps.onCreateRoom) {
      if (policy === 'callback') {
        this.bounce(stanza, new StanzaError('not-allowed', 'Room creation is restricted', 'cancel'));
        return;
      }
      this.createAndJoin(lp, {}, stanza, from, to, creator);
      return;
    }
    // The callback may take time (the plugin asks its database): queue what arrives for this room meanwhile.
    const pending: Pending = { queue: [] };
    this.pending.set(lp, pending);
    Promise.resolve()
      .then(() => this.deps.onCreateRoom!(roomJid, creator))
      .then(
        (seed) => {
          this.pending.delete(lp);
          if (seed === false)
            this.bounce(stanza, new StanzaError('not-allowed', 'Room creation is restricted', 'cancel'));
          else this.createAndJoin(lp, seed, stanza, from, to, null);
        },
        (err: unknown) => {
          this.pending.delete(lp);
          this.deps.log.error(`muc: room creation callback failed for ${roomJid}: ${(err as Error)?.stack ?? err}`);
          this.bounce(stanza, new StanzaError('internal-server-error', undefined, 'wait'));
        },
      )
      .then(() => {
        for (const s of pending.queue) this.receive(s);
      })
      .catch((err: unknown) => this.deps.log.error(`muc: creating ${roomJid} failed: ${(err as Error)?.stack ?? err}`));
  }

  /** `ownerBare`: the creator becomes owner (policies anyone/accounts); the callback's seed names owners itself. */
  private createAndJoin(
    lp: string,
    seed: RoomSeed,
    stanza: Element,
    from: JID,
    to: JID,
    ownerBare: string | null,
  ): void {
    const room = this.createRoom(lp, seed);
    if (ownerBare && !seed.affiliations) room.affiliations.set(ownerBare, { affiliation: 'owner' });
    try {
      room.join(stanza, from, to.resource, true);
    } catch (err) {
      if (!(err instanceof StanzaError)) throw err;
      room.bounce(stanza, err);
      if (room.occupantCount === 0 && !room.config.persistent) this.forget(room);
      return;
    }
    this.persist(room);
  }

  private serviceStanza(stanza: Element, from: JID): void {
    if (stanza.name !== 'iq') return;
    const type = stanza.attrs.type;
    if (type !== 'get' && type !== 'set') return;
    const payload = stanza.getChildElements()[0];
    const reply = (child?: Element) =>
      this.deps.router.route(
        el('iq', { type: 'result', id: stanza.attrs.id, from: this.domain, to: from.toString() }, child),
      );
    if (type === 'get' && payload?.is('query', MUC_NS.DISCO_INFO) && !payload.attrs.node) {
      reply((this.preparedInfo ??= PreSerializedElement.of(this.serviceInfo().toString())));
      return;
    }
    if (type === 'get' && payload?.is('query', MUC_NS.DISCO_ITEMS) && !payload.attrs.node) {
      reply(this.serviceItems());
      return;
    }
    if (type === 'get' && payload?.is('ping', MUC_NS.PING)) {
      reply();
      return;
    }
    this.bounce(stanza, new StanzaError('service-unavailable', undefined, 'cancel'));
  }

  private serviceInfo(): Element {
    const q = el(
      'query',
      { xmlns: MUC_NS.DISCO_INFO },
      el('identity', { category: 'conference', type: 'text', name: 'Chatrooms' }),
    );
    const features: string[] = [
      MUC_NS.DISCO_INFO,
      MUC_NS.DISCO_ITEMS,
      MUC_NS.MUC,
      MUC_NS.PING,
      MUC_NS.OCCUPANT_ID,
      MUC_NS.STABLE_ID,
      MUC_NS.SELF_PING,
      MUC_NS.MODERATE_0,
      MUC_NS.MODERATE_1,
    ];
    if (this.deps.mam) features.push(MUC_NS.MAM);
    for (const f of features.sort()) q.append(el('feature', { var: f }));
    return q;
  }

  /** Public rooms (XEP-0045 §6.3), bounded so a service with many rooms answers quickly. */
  private serviceItems(): Element {
    const q = el('query', { xmlns: MUC_NS.DISCO_ITEMS });
    let n = 0;
    for (const room of this.rooms.values()) {
      if (!room.config.public || room.destroyed) continue;
      q.append(el('item', { jid: room.jid, name: room.config.name || room.localpart }));
      if (++n >= 1000) break;
    }
    return q;
  }

  // ---- persistence ------------------------------------------------------------------------------------

  private persist(room: Room): void {
    if (!this.store || room.destroyed || !this.rooms.has(room.localpart)) return;
    if (room.config.persistent) {
      this.store.save(this.snapshot(room));
      this.stored.add(room.localpart);
    } else if (this.stored.delete(room.localpart)) {
      this.store.remove(room.localpart);
    }
  }

  snapshot(room: Room): StoredRoom {
    return {
      version: 1,
      localpart: room.localpart,
      config: structuredClone(room.config),
      affiliations: Object.fromEntries(room.affiliations),
      subject: room.subject,
      occupantIdSalt: room.occupantIdSalt,
      data: structuredClone(room.data),
    };
  }

  private restore(data: StoredRoom): void {
    const room = new Room(data.localpart, this.host, {
      ...this.config.defaultRoomConfig,
      ...data.config,
      persistent: true,
    });
    for (const [bare, entry] of Object.entries(data.affiliations ?? {})) room.affiliations.set(bare, entry);
    if (data.subject) room.subject = data.subject;
    room.occupantIdSalt = data.occupantIdSalt || randomBytes(16).toString('base64url');
    if (data.data && typeof data.data === 'object') room.data = data.data;
    this.rooms.set(room.localpart, room);
    this.stored.add(room.localpart);
    this.hooks.fire('restored', { room });
  }

  /** Drops a room from memory (and from disk if it was stored). */
  private forget(room: Room): void {
    if (this.rooms.get(room.localpart) !== room) return;
    this.rooms.delete(room.localpart);
    if (!room.destroyed) {
      room.destroyed = true;
      this.archive.dropRoom(room.jid);
    }
    if (this.stored.delete(room.localpart)) this.store?.remove(room.localpart);
  }

  /** Resolves once room files are written (tests, shutdown). */
  flush(): Promise<void> {
    return this.store?.flush() ?? Promise.resolve();
  }
}

export function createMucService(deps: MucServiceDeps): MucService {
  return new MucService(deps);
}
