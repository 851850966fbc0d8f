// The router: the only meeting point of sessions, server handlers, components and remote domains.
// Delivery rules follow RFC 6121 §8.5 (local user, full or bare JID; no such user; server itself).
import { el, type Element } from './xml.js';
import { NS } from './namespaces.js';
import { parseJid, bareOf, bareString } from './jid.js';
import type { JID } from './jid.js';
import { StanzaError, errorReply } from './errors.js';
import { sendPreparedTo, type Component, type LocalSession, type RemoteRoute } from './session-types.js';
import type { IqRegistry } from './iq-registry.js';
import type { Prepared } from './prepared.js';
import type { Logger } from '../log.js';

/**
 * What modules may observe about one-to-one delivery to accounts (carbons, offline storage, personal MAM). Each
 * event has any number of observers, so modules never wrap each other and install order does not matter.
 */
export interface DeliveryEvents {
  /** A chat message was delivered to `recipients` of `bare`. */
  messageDelivered: (stanza: Element, bare: string, recipients: LocalSession[]) => void;
  /** A local session sent a chat message. */
  messageSent: (stanza: Element, sender: LocalSession) => void;
  /** A message to `bare` was kept by the offline store. */
  storedOffline: (stanza: Element, bare: string) => void;
  /** A session became available (initial presence with non-negative priority). */
  available: (session: LocalSession) => void;
}

export class Router {
  private byFull = new Map<string, LocalSession>();
  /** An account's sessions: the session itself while it has one (anonymous viewers always), a map by resource past that. */
  private byBare = new Map<string, LocalSession | Map<string, LocalSession>>();
  private components = new Map<string, Component>();
  private userHosts = new Set<string>();
  private remote: RemoteRoute | null = null;
  private observers: { [K in keyof DeliveryEvents]: Array<DeliveryEvents[K]> } = {
    messageDelivered: [],
    messageSent: [],
    storedOffline: [],
    available: [],
  };
  /**
   * Bumped whenever a full JID stops naming the session it named (an unbind, or a bind replacing a session): whoever
   * keeps session references between deliveries (a room's fan-out list) checks it rather than asking per delivery.
   */
  get unbinds(): number {
    return this.unbindCount;
  }
  private unbindCount = 0;
  /** The offline store, when there is one: returns true when it kept the message (a decision, so one owner). */
  storeOffline?: (stanza: Element, bare: string) => boolean;

  constructor(
    private iq: IqRegistry,
    private log: Logger,
  ) {}

  observe<K extends keyof DeliveryEvents>(event: K, fn: DeliveryEvents[K]): void {
    this.observers[event].push(fn);
  }

  notify<K extends keyof DeliveryEvents>(event: K, ...args: Parameters<DeliveryEvents[K]>): void {
    for (const fn of this.observers[event]) (fn as (...a: Parameters<DeliveryEvents[K]>) => void)(...args);
  }

  addUserHost(domain: string): void {
    this.userHosts.add(domain);
  }
  isUserHost(domain: string): boolean {
    return this.userHosts.has(domain);
  }
  isLocalDomain(domain: string): boolean {
    return this.userHosts.has(domain) || this.components.has(domain);
  }

  registerComponent(c: Component): void {
    if (this.components.has(c.domain)) throw new Error(`component for ${c.domain} registered twice`);
    this.components.set(c.domain, c);
  }
  unregisterComponent(domain: string): void {
    this.components.delete(domain);
  }

  setRemoteRoute(r: RemoteRoute | null): void {
    this.remote = r;
  }

  // ---- session registry -------------------------------------------------

  /** Adds a bound session; returns the session it replaced (same full JID), which the caller must close. */
  bind(s: LocalSession): LocalSession | undefined {
    const old = this.byFull.get(s.fullJid);
    this.byFull.set(s.fullJid, s);
    if (old) this.unbindCount++;
    const res = this.byBare.get(s.bareJid);
    if (!res || (!(res instanceof Map) && res.jid.resource === s.jid.resource)) this.byBare.set(s.bareJid, s);
    else if (res instanceof Map) res.set(s.jid.resource, s);
    else
      this.byBare.set(
        s.bareJid,
        new Map([
          [res.jid.resource, res],
          [s.jid.resource, s],
        ]),
      );
    return old;
  }

  unbind(s: LocalSession): void {
    if (this.byFull.get(s.fullJid) !== s) return;
    this.byFull.delete(s.fullJid);
    this.unbindCount++;
    const res = this.byBare.get(s.bareJid);
    if (res === s) this.byBare.delete(s.bareJid);
    else if (res instanceof Map) {
      res.delete(s.jid.resource);
      if (res.size === 0) this.byBare.delete(s.bareJid);
    }
  }

  sessionFor(fullJid: string): LocalSession | undefined {
    return this.byFull.get(fullJid);
  }
  resourcesOf(bare: string): LocalSession[] {
    const res = this.byBare.get(bare);
    return !res ? [] : res instanceof Map ? [...res.values()] : [res];
  }
  get sessionCount(): number {
    return this.byFull.size;
  }
  allSessions(): IterableIterator<LocalSession> {
    return this.byFull.values();
  }

  // ---- delivery -----------------------------------------------------------

  /** Stanzas routed since start (the metrics' stanza rate). */
  routed = 0;

  /**
   * Routes a stanza whose `from` is already verified. `origin` is the local session that sent it, if any.
   * Never throws: failures become error replies to the sender.
   */
  route(stanza: Element, origin?: LocalSession): void {
    this.routed++;
    // A bound session's full JID (rooms answering their occupants): delivered without parsing the address, so
    // viewers' JIDs do not fill the parsed-address memo.
    const direct = stanza.attrs.to === undefined ? undefined : this.byFull.get(stanza.attrs.to);
    if (direct) {
      this.toSession(stanza, direct);
      return;
    }
    // The sender's own bare JID (a stanza sent with no 'to', which the session addressed to its account: a client's
    // roster and vCard requests, its answers to keepalive pings) is at hand: parsed, it would be a memo entry per
    // viewer that outlives the viewer. Presence goes to each address about once (joins, leaves): not memoized.
    const to =
      origin && stanza.attrs.to === origin.bareJid
        ? bareOf(origin.jid)
        : parseJid(stanza.attrs.to, stanza.name !== 'presence');
    if (!to) {
      this.bounce(stanza, new StanzaError('jid-malformed'), origin);
      return;
    }
    const component = this.components.get(to.domain);
    if (component) {
      try {
        component.receive(stanza, origin, to);
      } catch (err) {
        this.log.error(`component ${to.domain} failed: ${(err as Error).stack}`);
        this.bounce(stanza, new StanzaError('internal-server-error'), origin);
      }
      return;
    }
    if (this.userHosts.has(to.domain)) {
      if (!to.local) this.toServer(stanza, to, origin);
      else if (to.resource) this.toFull(stanza, to, origin);
      else this.toBare(stanza, to, origin);
      return;
    }
    if (this.remote) {
      this.remote.send(stanza);
      return;
    }
    this.bounce(stanza, new StanzaError('remote-server-not-found'), origin);
  }

  /** Fan-out path: sends a pre-serialized stanza to one full JID (local or remote). Returns false if nobody took it. */
  deliverPrepared(to: JID | string, p: Prepared): boolean {
    const full = typeof to === 'string' ? to : to.toString();
    const s = this.byFull.get(full);
    if (s) {
      sendPreparedTo(s, full, p);
      return true;
    }
    // Not memoized: a session that is gone (a viewer who left while the fan-out ran) is not asked for again.
    const domain = typeof to === 'string' ? parseJid(to, false)?.domain : to.domain;
    if (domain && !this.isLocalDomain(domain) && this.remote) {
      if (this.remote.sendRaw) this.remote.sendRaw(domain, p.forServer(full));
      else this.remote.send(p.toElement(full));
      return true;
    }
    return false;
  }

  /** Sends an error back to the sender of `stanza` (never for errors, to avoid loops). */
  bounce(stanza: Element, err: StanzaError, origin?: LocalSession): void {
    const reply = errorReply(stanza, err);
    if (!reply) return;
    if (!reply.attrs.from) delete reply.attrs.from;
    if (origin && (!reply.attrs.to || reply.attrs.to === origin.fullJid)) {
      origin.send(reply);
      return;
    }
    if (reply.attrs.to) this.route(reply);
  }

  private toServer(stanza: Element, to: JID, origin?: LocalSession): void {
    if (stanza.name === 'iq') {
      this.handleIq('server', stanza, origin);
      return;
    }
    // Messages and presence addressed to the server itself have no handler: ignore, as RFC 6120 §10.3 allows.
    if (stanza.name === 'message' && stanza.attrs.type !== 'error') {
      this.log.debug(`message to server ${to.domain} dropped`);
    }
  }

  private toFull(stanza: Element, to: JID, origin?: LocalSession): void {
    const s = this.byFull.get(stanza.attrs.to!) ?? this.byFull.get(to.toString());
    if (s) {
      this.toSession(stanza, s);
      return;
    }
    // RFC 6121 §8.5.3.2: no such resource.
    if (stanza.name === 'message') {
      const type = stanza.attrs.type ?? 'normal';
      if (type === 'normal' || type === 'chat') this.toBare(stanza, to.bare(), origin);
      else if (type === 'groupchat') this.bounce(stanza, new StanzaError('service-unavailable'), origin);
      return; // headline and error: silently ignored
    }
    if (stanza.name === 'iq') {
      if (stanza.attrs.type === 'get' || stanza.attrs.type === 'set')
        this.bounce(stanza, new StanzaError('service-unavailable'), origin);
      return;
    }
    // presence to an unknown full JID is silently ignored
  }

  private toSession(stanza: Element, s: LocalSession): void {
    s.send(stanza);
    if (stanza.name === 'message') this.notify('messageDelivered', stanza, s.bareJid, [s]);
  }

  private toBare(stanza: Element, to: JID, origin?: LocalSession): void {
    const bare = bareString(to);
    const resources = this.resourcesOf(bare);
    if (stanza.name === 'iq') {
      if (resources.length === 0 && !this.accountExists?.(bare)) {
        if (stanza.attrs.type === 'get' || stanza.attrs.type === 'set')
          this.bounce(stanza, new StanzaError('service-unavailable'), origin);
        return;
      }
      this.handleIq('account', stanza, origin);
      return;
    }
    if (stanza.name === 'message') {
      const type = stanza.attrs.type ?? 'normal';
      const available = resources.filter((r) => r.available && r.priority >= 0);
      if (type === 'groupchat') {
        this.bounce(stanza, new StanzaError('service-unavailable'), origin);
        return;
      }
      if (available.length === 0) {
        if (type !== 'normal' && type !== 'chat') return; // headline and error: dropped (RFC 6121 §8.5.2.2.1)
        // Accounts get offline storage; anonymous users and unknown accounts: service-unavailable.
        if (this.accountExists?.(bare) && this.storeOffline?.(stanza, bare)) {
          this.notify('storedOffline', stanza, bare);
          return;
        }
        this.bounce(stanza, new StanzaError('service-unavailable'), origin);
        return;
      }
      // Chat and normal go to every non-negative-priority resource (RFC 6121 §8.5.2.1.1 allows this choice).
      for (const r of available) r.send(stanza);
      this.notify('messageDelivered', stanza, bare, available);
      return;
    }
    // presence: directed presence of any kind goes to the available resources; subscriptions need a roster,
    // which these accounts do not keep, so those are dropped.
    const type = stanza.attrs.type;
    if (!type || type === 'unavailable') {
      for (const r of resources) if (r.available) r.send(stanza);
    } else if (type === 'probe') {
      // no roster, no subscription: nothing to answer (RFC 6121 §4.3.2: unsubscribed contacts get nothing)
    }
  }

  /** Optional hook telling whether an account exists without a session (set by the accounts module). */
  accountExists?: (bare: string) => boolean;

  private handleIq(target: 'server' | 'account', stanza: Element, origin?: LocalSession): void {
    const type = stanza.attrs.type;
    if (type !== 'get' && type !== 'set') return; // results and errors to the server are not answered
    this.iq.handle(target, stanza, origin).then(
      (payload) => {
        const reply = el(
          'iq',
          { xmlns: NS.CLIENT, type: 'result', id: stanza.attrs.id, from: stanza.attrs.to, to: stanza.attrs.from },
          payload || undefined,
        );
        this.replyTo(reply, origin);
      },
      (err: unknown) => {
        const e = err instanceof StanzaError ? err : new StanzaError('internal-server-error');
        if (!(err instanceof StanzaError)) this.log.error(`iq handler failed: ${(err as Error)?.stack ?? err}`);
        this.bounce(stanza, e, origin);
      },
    );
  }

  private replyTo(reply: Element, origin?: LocalSession): void {
    if (origin && reply.attrs.to === origin.fullJid) origin.send(reply);
    else if (reply.attrs.to) this.route(reply);
  }
}
