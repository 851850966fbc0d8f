// What the router needs to know about a bound client session, whatever its transport.
import type { JID } from './jid.js';
import type { Element } from './xml.js';
import type { Prepared } from './prepared.js';

export interface LocalSession {
  /** Full bound JID. */
  readonly jid: JID;
  readonly fullJid: string;
  readonly bareJid: string;
  /** True once the session has sent available presence (RFC 6121 "available resource"). */
  readonly available: boolean;
  readonly priority: number;
  /** XEP-0280: this resource asked for carbon copies. */
  readonly carbons: boolean;
  readonly anonymous: boolean;
  /** The client's network address as its transport saw it, when it has one (MUC IP bans). */
  readonly remoteAddress?: string;
  /** Sends a stanza element; the session adds the stream namespace. */
  send(stanza: Element): void;
  /** Sends an already serialized jabber:client stanza (fan-out path). */
  sendRaw(xml: string): void;
  /** Sends a prepared stanza to this session's full JID (fan-out path); without it the router uses sendRaw. */
  sendPrepared?(p: Prepared): void;
}

/** Sends a prepared stanza to a local session bound to `full`: as prepared when the session takes it, else as text. */
export function sendPreparedTo(s: LocalSession, full: string, p: Prepared): void {
  if (s.sendPrepared) s.sendPrepared(p);
  else s.sendRaw(p.forClient(full));
}

/** A service bound to a whole domain (the MUC service at room.<domain>, later others). */
export interface Component {
  readonly domain: string;
  /**
   * Handles a stanza addressed to the domain or anything under it; `from` is verified by the caller. `origin` is the
   * local session that sent it, when one did (its parsed JID spares parsing `from` again); `to` is the stanza's `to`
   * already parsed by the router (a join presence's room/nick is parsed once, not once per layer).
   */
  receive(stanza: Element, origin?: LocalSession, to?: JID): void;
}

/** Where stanzas for remote domains go (the S2S pool, when enabled). */
export interface RemoteRoute {
  send(stanza: Element): void;
  sendRaw?(toDomain: string, xml: string): void;
}
