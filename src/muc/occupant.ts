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

export class Occupant {
  readonly sessions = new Map<string, OccupantSession>();
  /** Cached available presence per view, rebuilt after any change (sent to every later joiner). */
  private views: { full?: PreparedStanza; anon?: PreparedStanza } = {};
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
    return this.sessions.values().next().value as OccupantSession;
  }

  get isModerator(): boolean {
    return this.role === 'moderator';
  }

  cachedView(view: View): PreparedStanza | undefined {
    return this.views[view];
  }
  /** Kept as bytes only (the tree is rebuilt on the rare demand): one per occupant and view, for as long as it stays. */
  cacheView(view: View, p: PreparedStanza): void {
    this.views[view] = p.compact();
  }
  invalidate(): void {
    this.views = {};
  }
}
