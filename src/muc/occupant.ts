// One occupant: a nickname held by one real bare JID, with one or more sessions (XEP-0045 §7.2.19 multi-session nick).
import type { JID } from '../xmpp/jid.js';
import type { Element } from '../xmpp/xml.js';
import type { PreparedStanza } from '../xmpp/prepared.js';
import type { Role } from './types.js';

export interface OccupantSession {
  readonly jid: JID;
  readonly full: string;
  /** The payload of the session's latest available presence (storedPresence: shared, read-only; the source for broadcasts). */
  presence: Element;
}

/** Which copy of an occupant's presence a recipient gets: with the real JID (moderators, or whois=anyone) or without. */
export type View = 'full' | 'anon';

/**
 * An occupant's sessions by full JID, in join order. Nearly every occupant has one, held in a field; a Map (~200
 * bytes per occupant) is made only when a second session takes the same nick.
 */
export class OccupantSessions {
  private one: OccupantSession | null = null;
  private many: Map<string, OccupantSession> | null = null;

  get size(): number {
    return this.many ? this.many.size : this.one ? 1 : 0;
  }
  get(full: string): OccupantSession | undefined {
    if (this.many) return this.many.get(full);
    return this.one?.full === full ? this.one : undefined;
  }
  has(full: string): boolean {
    return this.get(full) !== undefined;
  }
  /** Adds or replaces the session stored under `full` (its `full`). */
  set(full: string, s: OccupantSession): void {
    if (this.many) this.many.set(full, s);
    else if (!this.one || this.one.full === full) this.one = s;
    else {
      this.many = new Map([
        [this.one.full, this.one],
        [full, s],
      ]);
      this.one = null;
    }
  }
  delete(full: string): boolean {
    if (!this.many) {
      if (this.one?.full !== full) return false;
      this.one = null;
      return true;
    }
    const gone = this.many.delete(full);
    if (this.many.size === 1) {
      this.one = this.many.values().next().value as OccupantSession;
      this.many = null;
    }
    return gone;
  }
  values(): Iterable<OccupantSession> {
    return this.many ? this.many.values() : this.one ? [this.one] : [];
  }
  keys(): Iterable<string> {
    return this.many ? this.many.keys() : this.one ? [this.one.full] : [];
  }
  /** The first session that joined. */
  get first(): OccupantSession | undefined {
    return this.many ? (this.many.values().next().value as OccupantSession | undefined) : (this.one ?? undefined);
  }
}

export class Occupant {
  readonly sessions = new OccupantSessions();
  /** Cached available presence per view, rebuilt after any change (sent to every later joiner). */
  private viewFull: PreparedStanza | undefined = undefined;
  private viewAnon: PreparedStanza | undefined = undefined;
  /** Epoch ms of the join, for features such as slow mode or idle checks. */
  readonly joinedAt = Date.now();

  constructor(
    public nick: string,
    readonly bareJid: string,
    public role: Role,
    readonly occupantId: string,
  ) {}

  /** The session whose presence represents the occupant (the first one that joined). */
  get primary(): OccupantSession {
    return this.sessions.first as OccupantSession;
  }

  get isModerator(): boolean {
    return this.role === 'moderator';
  }

  cachedView(view: View): PreparedStanza | undefined {
    return view === 'full' ? this.viewFull : this.viewAnon;
  }
  /** Kept as bytes only (the tree is rebuilt on the rare demand): one per occupant and view, for as long as it stays. */
  cacheView(view: View, p: PreparedStanza): void {
    if (view === 'full') this.viewFull = p.compact();
    else this.viewAnon = p.compact();
  }
  invalidate(): void {
    this.viewFull = this.viewAnon = undefined;
  }
}
