// The room's occupants by nick, keeping the number of anonymous viewers among them as they come and go, so the
// viewer counter and disco#info read it in O(1) instead of walking every occupant on each join.
import type { Occupant } from './occupant.js';

export class OccupantMap extends Map<string, Occupant> {
  private anon = 0;

  constructor(private readonly isAnonymous: (bareJid: string) => boolean) {
    super();
  }

  /** Occupants whose real JID is an anonymous login (an occupant's bare JID never changes). */
  get anonymous(): number {
    return this.anon;
  }

  override set(nick: string, occ: Occupant): this {
    const prev = super.get(nick);
    if (prev === occ) return this;
    if (prev && this.isAnonymous(prev.bareJid)) this.anon--;
    super.set(nick, occ);
    if (this.isAnonymous(occ.bareJid)) this.anon++;
    return this;
  }

  override delete(nick: string): boolean {
    const prev = super.get(nick);
    if (!prev) return false;
    if (this.isAnonymous(prev.bareJid)) this.anon--;
    return super.delete(nick);
  }

  override clear(): void {
    this.anon = 0;
    super.clear();
  }
}
