// The S2S service: the router's RemoteRoute. Owns the listeners, the incoming streams, and the pool of outgoing
// streams (one per local → remote domain pair, reused, closed when idle). Stanzas that cannot reach their remote
// domain come back to the sender as stanza errors.
import { incomingS2sFeatures } from './features.js';
import type net from 'node:net';
import type tls from 'node:tls';
import { parse as parseXml } from 'ltx';
import { Element } from '../xmpp/xml.js';
import { NS } from '../xmpp/namespaces.js';
import { parseJid } from '../xmpp/jid.js';
import { StanzaError } from '../xmpp/errors.js';
import type { RemoteRoute } from '../xmpp/session-types.js';
import type { Router } from '../xmpp/router.js';
import type { Logger } from '../log.js';
import type { CertificateStore } from '../certs/index.js';
import type { S2sConfig, HostPort } from './config.js';
import type { S2sContext } from './context.js';
import { DialbackKeys, loadOrCreateSecret } from './dialback-key.js';
import { TrustStore } from './peer-cert.js';
import { S2sResolver } from './resolve.js';
import { S2sStream, type S2sTransport } from './stream.js';
import { DialError, type S2sDialer } from './dialer.js';
import { tcpDialer } from './tcp-dialer.js';
import { wsDialer } from './ws-dialer.js';
import { createWsS2sEndpoint, type WsS2sEndpoint, type WsS2sAccepted } from './ws-endpoint.js';
import { readServerInfos } from './server-infos.js';
import { IncomingS2s } from './incoming.js';
import { OutgoingS2s, type FailureKind, type QueuedStanza } from './outgoing.js';
import { startS2sListeners, type S2sListeners } from './listener.js';
import { startStallAwareSweep, excused } from '../xmpp/stall-sweep.js';

export interface S2sServiceDeps {
  config: S2sConfig;
  router: Router;
  log: Logger;
  dataDir: string;
  /** Domains served over S2S: main domain, anonymous host, MUC host. */
  domains: string[];
  limits: { maxStanzaSize: number; maxSendBufferBytes: number; authTimeoutSeconds: number };
  /** WebSocket S2S: the HTTP server is considered to be reached over TLS (a TLS-ending proxy in front). */
  httpSecure?: boolean;
  /** A livechat peer announced its base URL (header of its WebSocket S2S request): its infos may be refreshed. */
  onPeerInstanceUrl?(url: string): void;
}

export interface S2sStatus {
  listening: { starttls: HostPort[]; directTls: HostPort[] };
  outgoing: Array<{
    local: string;
    remote: string;
    transport: string | null;
    state: string;
    auth: string | null;
    secure: boolean;
    queued: number;
    sent: number;
  }>;
  incoming: Array<{
    from: string;
    transport: string;
    framing: string | null;
    unmaskedFrames: number;
    address: string;
    secure: boolean;
    sasl: string | null;
    verified: string[];
    routed: number;
  }>;
}

const STANZAS = new Set(['message', 'presence', 'iq']);

export class S2sService implements RemoteRoute {
  private outgoing = new Map<string, OutgoingS2s>();
  private incoming = new Set<IncomingS2s>();
  private listeners: S2sListeners | null = null;
  private resolver: S2sResolver;
  private stopSweep: (() => void) | null = null;
  private ctx!: S2sContext;
  private domains: Set<string>;
  /** Incoming WebSocket S2S, when `s2s.websocket.enabled`. */
  readonly websocket: WsS2sEndpoint | null;

  constructor(private deps: S2sServiceDeps) {
    this.domains = new Set(deps.domains);
    const { config, limits } = deps;
    this.websocket = config.websocket.enabled
      ? createWsS2sEndpoint({
          path: config.websocket.path,
          maxStanzaSize: limits.maxStanzaSize,
          maxSendBufferBytes: limits.maxSendBufferBytes,
          secure: deps.httpSecure ?? false,
          accept: (a) => this.acceptWebSocket(a),
        })
      : null;
    this.resolver = new S2sResolver(
      deps.config.dnsServers,
      deps.config.staticRoutes,
      Math.min(5000, deps.config.connectTimeoutSeconds * 500),
    );
  }

  async start(certs: CertificateStore): Promise<void> {
    const { config, log, limits } = this.deps;
    const secret = config.dialbackSecret ?? (await loadOrCreateSecret(this.deps.dataDir));
    const trust = await TrustStore.load(config.trustedCaFiles);
    this.ctx = {
      config,
      log,
      maxStanzaSize: limits.maxStanzaSize,
      maxSendBufferBytes: limits.maxSendBufferBytes,
      authTimeoutSeconds: limits.authTimeoutSeconds,
      keys: new DialbackKeys(secret),
      trust,
      features: incomingS2sFeatures(),
      isLocalDomain: (d) => this.domains.has(d),
      wrapServerSocket: (s) => certs.wrapServerSocket(s, { requestCert: true, rejectUnauthorized: false }),
      clientTlsOptions: (local, remote) => ({
        secureContext: certs.secureContextFor(local) ?? certs.defaultContext,
        servername: remote,
        rejectUnauthorized: false,
      }),
      route: (stanza) => this.deps.router.route(stanza),
      verifyDialback: (local, remote, id, key) => this.verifyDialback(local, remote, id, key),
    };
    if (config.enabled)
      this.listeners = await startS2sListeners({
        interfaces: config.interfaces,
        port: config.port,
        directTlsPort: config.directTls ? config.directTlsPort : null,
        wrap: (s) => this.ctx.wrapServerSocket(s),
        accept: (s, t) => this.accept(s, t),
      });
    this.deps.router.setRemoteRoute(this);
    const every = Math.max(1000, Math.min(30_000, (config.idleTimeoutSeconds * 1000) / 4));
    this.stopSweep = startStallAwareSweep(every, (now, stalled) => this.sweepIdle(now, stalled));
  }

  async stop(): Promise<void> {
    this.deps.router.setRemoteRoute(null);
    this.stopSweep?.();
    this.stopSweep = null;
    this.resolver.cancel();
    this.websocket?.close();
    for (const o of [...this.outgoing.values()]) o.close();
    for (const i of [...this.incoming]) i.stream.fail('system-shutdown');
    await this.listeners?.close();
    this.listeners = null;
  }

  get addresses(): { starttls: HostPort[]; directTls: HostPort[] } | null {
    return this.listeners ? { starttls: this.listeners.starttls, directTls: this.listeners.directTls } : null;
  }

  status(): S2sStatus {
    return {
      listening: this.addresses ?? { starttls: [], directTls: [] },
      outgoing: [...this.outgoing.values()].map((o) => ({
        local: o.local,
        remote: o.remote,
        transport: o.stream?.kind ?? null,
        state: o.state,
        auth: o.authMethod,
        secure: !!o.stream?.secure,
        queued: o.queued,
        sent: o.sentCount,
      })),
      incoming: [...this.incoming].map((i) => ({
        from: i.from,
        transport: i.stream.kind,
        framing: i.stream.framing ?? null,
        unmaskedFrames: i.stream.unmaskedFrames ?? 0,
        address: i.stream.remoteAddress,
        secure: i.stream.secure,
        sasl: i.saslDomain,
        verified: [...i.verified],
        routed: i.stanzasRouted,
      })),
    };
  }

  // ---- RemoteRoute -----------------------------------------------------------------------------------------

  send(stanza: Element): void {
    const from = parseJid(stanza.attrs.from);
    const to = parseJid(stanza.attrs.to);
    if (!from || !to || !STANZAS.has(stanza.name)) return;
    this.enqueue(from.domain, to.domain, { xml: serializeForServer(stanza), element: stanza });
  }

  sendRaw(toDomain: string, xml: string): void {
    const fromDomain = fromDomainOf(xml);
    if (!fromDomain) {
      this.deps.log.warn(`s2s: stanza for ${toDomain} without a from, dropped`);
      return;
    }
    this.enqueue(fromDomain, toDomain, { xml });
  }

  private enqueue(local: string, remote: string, item: QueuedStanza): void {
    local = local.toLowerCase();
    remote = remote.toLowerCase();
    if (!this.domains.has(local)) {
      // Only our own domains may originate: relaying for others would let a peer spoof through us.
      this.deps.log.warn(`s2s: not sending a stanza from foreign domain ${local} to ${remote}`);
      return;
    }
    if (this.domains.has(remote)) {
      this.deps.log.debug(`s2s: ${remote} is local, not sending over S2S`);
      return;
    }
    const out = this.outgoingFor(local, remote);
    if (!out.send(item)) this.bounce(item, 'resource-constraint', `too many stanzas waiting for ${remote}`);
  }

  private outgoingFor(local: string, remote: string): OutgoingS2s {
    const k = `${local}|${remote}`;
    let out = this.outgoing.get(k);
    if (!out || out.state === 'closed') {
      out = new OutgoingS2s(this.ctx, this.dialer, local, remote, {
        ready: () => {},
        closed: (o, queued, kind, reason) => this.outgoingClosed(o, queued, kind, reason),
      });
      this.outgoing.set(k, out);
    }
    return out;
  }

  /** Picks the transport for each new outgoing stream, from the freshest configuration and serverInfos. */
  private dialer: S2sDialer = async (local, remote, track) => {
    const route = await this.routeFor(remote);
    return route(local, remote, track);
  };

  private async routeFor(remote: string): Promise<S2sDialer> {
    const { enabled: tcp, websocket } = this.deps.config;
    const configured = websocket.routes[remote];
    if (configured) return wsDialer(this.ctx, configured);
    const info = websocket.serverInfosDir
      ? await readServerInfos(websocket.serverInfosDir, remote, this.deps.log)
      : undefined;
    // Direct S2S when the remote has it (and we speak TCP S2S): one hop less than its HTTP front.
    if (tcp && info?.s2s) {
      const { host, port } = info.s2s;
      return tcpDialer(this.ctx, () => this.resolver.hostTargets(host, port));
    }
    if (info?.wsS2S) return wsDialer(this.ctx, info.wsS2S.url);
    if (tcp) return tcpDialer(this.ctx, (r) => this.resolver.targets(r));
    throw new DialError(`no WebSocket S2S URL known for ${remote} and S2S over TCP is off`, 'not-found');
  }

  private outgoingClosed(o: OutgoingS2s, queued: QueuedStanza[], kind: FailureKind, reason: string): void {
    const k = `${o.local}|${o.remote}`;
    if (this.outgoing.get(k) === o) this.outgoing.delete(k);
    const condition = kind === 'timeout' ? 'remote-server-timeout' : 'remote-server-not-found';
    for (const item of queued) this.bounce(item, condition, `cannot reach ${o.remote}: ${reason}`);
  }

  private bounce(
    item: QueuedStanza,
    condition: 'remote-server-not-found' | 'remote-server-timeout' | 'resource-constraint',
    text: string,
  ): void {
    let stanza = item.element;
    if (!stanza) {
      try {
        stanza = parseXml(item.xml) as Element;
      } catch {
        return;
      }
    }
    if (stanza.attrs.type === 'error') return;
    const copy = new Element(stanza.name, { ...stanza.attrs, xmlns: NS.CLIENT });
    copy.children = stanza.children;
    // Later, not now: the error goes back through the router to, say, a room that may answer by sending more to
    // this same remote domain; doing that inside send() would recurse without bound.
    setImmediate(() => this.deps.router.bounce(copy, new StanzaError(condition, text.slice(0, 300))));
  }

  // ---- dialback: we are the receiving server, asking the remote's authoritative server --------------------

  private verifyDialback(local: string, remote: string, id: string, key: string): Promise<boolean> {
    const out = this.outgoingFor(local, remote);
    const ms = this.deps.config.connectTimeoutSeconds * 1000;
    return new Promise<boolean>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer from ${remote} within ${ms / 1000} s`)), ms);
      t.unref();
      out.verify(id, key).then(
        (ok) => {
          clearTimeout(t);
          resolve(ok);
        },
        (err: unknown) => {
          clearTimeout(t);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  // ---- incoming --------------------------------------------------------------------------------------------

  private accept(socket: net.Socket, tlsSocket?: tls.TLSSocket): void {
    if (this.incoming.size >= this.deps.config.maxIncomingStreams) {
      this.deps.log.warn(`s2s: refusing ${socket.remoteAddress}: ${this.incoming.size} incoming streams already`);
      socket.destroy();
      return;
    }
    this.acceptStream(
      new S2sStream(
        socket,
        { maxStanzaSize: this.ctx.maxStanzaSize, maxSendBufferBytes: this.ctx.maxSendBufferBytes },
        tlsSocket,
      ),
    );
  }

  private acceptWebSocket(a: WsS2sAccepted): void {
    if (!this.ctx || this.incoming.size >= this.deps.config.maxIncomingStreams) {
      this.deps.log.warn(
        `s2s: refusing WebSocket from ${a.stream.remoteAddress}: ${this.ctx ? 'too many incoming streams' : 'not started'}`,
      );
      a.stream.handler = { opened() {}, element() {}, closed() {} };
      a.stream.close();
      return;
    }
    if (a.instanceUrl) {
      this.deps.log.debug(`s2s in (WebSocket) from ${a.stream.remoteAddress}: peer instance ${a.instanceUrl}`);
      this.deps.onPeerInstanceUrl?.(a.instanceUrl);
    }
    this.acceptStream(a.stream);
  }

  private acceptStream(stream: S2sTransport): void {
    const s = new IncomingS2s(this.ctx, stream, (x, reason) => {
      this.incoming.delete(x);
      this.deps.log.debug(`s2s in ${x.from || stream.remoteAddress}: closed: ${reason}`);
    });
    this.incoming.add(s);
  }

  private sweepIdle(now: number, stalled: number): void {
    const idleMs = this.deps.config.idleTimeoutSeconds * 1000;
    if (stalled > 0) this.excuseStall(stalled, now);
    for (const o of [...this.outgoing.values()]) {
      if (o.state === 'ready' && now - o.lastActivity > idleMs) o.close();
    }
    for (const i of [...this.incoming]) {
      if (!i.authenticated && now - i.stream.authClockStart > this.ctx.authTimeoutSeconds * 1000 * 2)
        i.stream.fail('connection-timeout', 'not authenticated in time');
      else if (now - i.stream.lastActivity > idleMs) i.stream.close(undefined, 'idle');
    }
  }

  /** The server was stalled for `ms`: no peer's data could be read meanwhile, so that time is not its silence. */
  private excuseStall(ms: number, now: number): void {
    const streams = [...this.incoming].map((i) => i.stream);
    for (const o of this.outgoing.values()) if (o.stream) streams.push(o.stream);
    for (const s of streams) {
      s.lastActivity = excused(s.lastActivity, ms, now);
      s.authClockStart = excused(s.authClockStart, ms, now);
    }
  }
}

/** Top-level stanzas on a server stream carry xmlns="jabber:server"; shared elements are not mutated. */
export function serializeForServer(e: Element): string {
  if (e.attrs.xmlns === NS.SERVER) return e.toString();
  const copy = new Element(e.name, { ...e.attrs, xmlns: NS.SERVER });
  copy.children = e.children;
  return copy.toString();
}

/** The domain of the `from` attribute of a serialized stanza's opening tag (fan-out path: no parse). */
export function fromDomainOf(xml: string): string | null {
  const end = xml.indexOf('>');
  const head = end < 0 ? xml : xml.slice(0, end);
  const m = /\sfrom=(?:"([^"]*)"|'([^']*)')/.exec(head);
  const from = m?.[1] ?? m?.[2];
  if (!from) return null;
  const noRes = from.split('/')[0];
  const at = noRes.lastIndexOf('@');
  return at >= 0 ? noRes.slice(at + 1) : noRes;
}
