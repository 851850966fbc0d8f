// Presence of one c2s session (RFC 6121 §4): broadcast presence to the account's own available resources,
// directed presence remembered so its recipients (MUC rooms among them) hear when the session goes away, and the
// unavailable presence the server sends on the user's behalf when the session ends.
import { cloneElement, el, type Element } from '../xml.js';
import { NS } from '../namespaces.js';
import { ownCopy } from '../jid.js';
import type { Router } from '../router.js';
import type { LocalSession } from '../session-types.js';

/** The session as this module sees it: its address and the availability the router reads. */
export interface PresenceOwner extends LocalSession {
  available: boolean;
  priority: number;
}

export class SessionPresence {
  /**
   * JIDs this session sent directed available presence to; they get unavailable on exit. Nearly always none or one
   * (the room a viewer sits in), held as the string; a Set only past one.
   */
  private directed: string | Set<string> | null = null;

  constructor(
    private readonly session: PresenceOwner,
    private readonly router: Router,
  ) {}

  /** A presence stanza from the client (with a verified `from`). */
  handle(stanza: Element): void {
    const s = this.session;
    const type = stanza.attrs.type;
    if (stanza.attrs.to) {
      if (!type) this.addDirected(stanza.attrs.to);
      else if (type === 'unavailable') this.removeDirected(stanza.attrs.to);
      this.router.route(stanza, s);
      return;
    }
    if (type && type !== 'unavailable') return; // subscription management needs a roster we do not keep
    // Broadcast presence (RFC 6121 §4.2, §4.5): to the account's own available resources, this one included.
    const wasAvailable = s.available;
    s.available = !type;
    s.priority = Math.max(-128, Math.min(127, Number(stanza.getChildText('priority') ?? 0) || 0));
    this.toOwnResources(stanza, (r) => r === s || r.available);
    if (type === 'unavailable') this.leaveDirected(stanza);
    else if (!wasAvailable && s.priority >= 0) this.router.notify('available', s);
  }

  /** The session ended (RFC 6121 §4.6): unavailable to its available siblings and to every directed recipient. */
  ended(): void {
    const s = this.session;
    const unavailable = el('presence', { xmlns: NS.CLIENT, type: 'unavailable', from: s.fullJid });
    if (s.available) {
      s.available = false;
      this.toOwnResources(unavailable, (r) => r.available);
    }
    this.leaveDirected(unavailable);
  }

  private addDirected(to: string): void {
    const d = this.directed;
    if (d === to || (typeof d === 'object' && d?.has(to))) return;
    // Kept while the session lives: a copy of its own, not a view of the whole message text it was read from.
    const own = ownCopy(to);
    if (d === null) this.directed = own;
    else if (typeof d === 'string') this.directed = new Set([d, own]);
    else d.add(own);
  }

  private removeDirected(to: string): void {
    const d = this.directed;
    if (d === to) this.directed = null;
    else if (typeof d === 'object' && d?.delete(to) && d.size === 1) this.directed = d.values().next().value!;
  }

  private toOwnResources(stanza: Element, accept: (r: LocalSession) => boolean): void {
    for (const r of this.router.resourcesOf(this.session.bareJid)) {
      if (!accept(r)) continue;
      const copy = cloneElement(stanza);
      copy.attrs.to = r.fullJid;
      r.send(copy);
    }
  }

  private leaveDirected(unavailable: Element): void {
    const d = this.directed;
    if (!d) return;
    const targets = typeof d === 'string' ? [d] : [...d];
    this.directed = null;
    for (const to of targets) {
      const p = cloneElement(unavailable);
      p.attrs.to = to;
      p.attrs.from = this.session.fullJid;
      delete p.attrs.id;
      this.router.route(p);
    }
  }
}
