// The room's fan-out list: every occupant session next to the router's session for it, in parallel arrays, so a
// message to thousands of viewers is one loop over arrays, with no walk over each occupant's sessions and no registry
// lookup per recipient (bench:muc at 400 occupants: 1.1 against 1.6 µs per recipient). Dropped when the room's
// sessions change, rebuilt by the next fan-out, and checked against the router's unbind count (a session may end
// without leaving). Never changed in place: a fan-out that changes the room (a recipient dropped mid-loop leaves it)
// goes on over the list it started with, whose ended sessions ignore what they are sent.
import type { Router } from '../xmpp/router.js';
import { sendPreparedTo, type LocalSession } from '../xmpp/session-types.js';
import type { Prepared } from '../xmpp/prepared.js';
import type { Occupant } from './occupant.js';

interface Entries {
  readonly occupants: Occupant[];
  readonly fulls: string[];
  /** The bound local session; null for a remote occupant or a session gone without leaving (the router decides). */
  readonly sessions: (LocalSession | null)[];
}

export class FanoutList {
  private entries: Entries | null = null;
  private unbindsAt = -1;

  constructor(
    private readonly occupants: ReadonlyMap<string, Occupant>,
    private readonly router: Router,
  ) {}

  /** The room's sessions changed (a join, a leave, a session moving between nicks). */
  invalidate(): void {
    this.entries = null;
  }

  /**
   * Sends `p` to every session of every occupant `filter` accepts. The full JIDs of sessions nobody
   * took (local sessions that ended without leaving) go to `gone`, for the room to remove after the fan-out.
   */
  send(p: Prepared, filter: ((o: Occupant) => boolean) | undefined, gone: string[]): void {
    const { occupants, fulls, sessions } = this.current();
    for (let i = 0; i < occupants.length; i++) {
      if (filter !== undefined && !filter(occupants[i])) continue;
      const s = sessions[i];
      if (s !== null) sendPreparedTo(s, fulls[i], p);
      else if (!this.router.deliverPrepared(fulls[i], p)) gone.push(fulls[i]);
    }
  }

  private current(): Entries {
    if (this.entries !== null && this.unbindsAt === this.router.unbinds) return this.entries;
    const occupants: Occupant[] = [];
    const fulls: string[] = [];
    const sessions: (LocalSession | null)[] = [];
    for (const o of this.occupants.values()) {
      for (const s of o.sessions.values()) {
        occupants.push(o);
        fulls.push(s.full);
        sessions.push(this.router.sessionFor(s.full) ?? null);
      }
    }
    this.unbindsAt = this.router.unbinds;
    return (this.entries = { occupants, fulls, sessions });
  }
}
