// The room's occupants by nick, with what would otherwise take a walk over all of them on every join, MAM query or
// leave: the number of anonymous viewers (viewer counter, disco#info) and the occupants of each real bare JID.
import type { Occupant } from './occupant.js';

const NONE: readonly Occupant[] = Object.freeze([]);

export class OccupantMap extends Map<string, Occupant> {
  private anon = 0;
  /** Bare JID → its occupants (usually one; several when the user's sessions hold different nicks). */
  private readonly bare = new Map<string, Occupant[]>();

  constructor(private readonly isAnonymous: (bareJid: string) => boolean) {
    super();
  }

  /** Occupants whose real JID is an anonymous login (an occupant's bare JID never changes). */
  get anonymous(): number {
    return this.anon;
  }

  /** The occupants of a real bare JID, in the order they took their nicks. */
  ofBare(bareJid: string): readonly Occupant[] {
    return this.bare.get(bareJid) ?? NONE;
  }

  override set(nick: string, occ: Occupant): this {
    const prev = super.get(nick);
    if (prev === occ) return this;
    if (prev) this.forget(prev);
    super.set(nick, occ);
    if (this.isAnonymous(occ.bareJid)) this.anon++;
    const list = this.bare.get(occ.bareJid);
    if (list) list.push(occ);
    else this.bare.set(occ.bareJid, [occ]);
    return this;
  }

  override delete(nick: string): boolean {
    const prev = super.get(nick);
    if (!prev) return false;
    this.forget(prev);
    return super.delete(nick);
  }

  override clear(): void {
    this.anon = 0;
    this.bare.clear();
    super.clear();
  }

  private forget(occ: Occupant): void {
    if (this.isAnonymous(occ.bareJid)) this.anon--;
    const list = this.bare.get(occ.bareJid);
    if (!list) return;
    const i = list.indexOf(occ);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.bare.delete(occ.bareJid);
  }
}

/** Real full JID → occupant, telling its owner of every change (the room's fan-out list is rebuilt after one). */
export class SessionIndex extends Map<string, Occupant> {
  constructor(private readonly changed: () => void) {
    super();
  }

  override set(full: string, occ: Occupant): this {
    if (super.get(full) !== occ) this.changed();
    return super.set(full, occ);
  }

  override delete(full: string): boolean {
    if (!super.delete(full)) return false;
    this.changed();
    return true;
  }

  override clear(): void {
    this.changed();
    super.clear();
  }
}
