// createServer(config): the library entry point. Standalone (src/cli.ts) and the PeerTube plugin both use it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServerMetrics } from './metrics/server-metrics.js';
import { OPENMETRICS_CONTENT_TYPE } from './metrics/openmetrics.js';
import type { Duplex } from 'node:stream';
import { mkdir } from 'node:fs/promises';
import { validateConfig, type ServerConfig } from './config.js';
import { consoleLogger, type Logger } from './log.js';
import { Router } from './xmpp/router.js';
import { IqRegistry } from './xmpp/iq-registry.js';
import { DiscoRegistry, type HostKind } from './xmpp/disco.js';
import { ResumptionRegistry } from './xmpp/stream-management.js';
import { AuthLimiter } from './xmpp/c2s/auth-limiter.js';
import { ConnectionRate } from './xmpp/c2s/rate-limits.js';
import type { C2SContext, Connection } from './xmpp/c2s/context.js';
import { SendBudget } from './xmpp/c2s/send-budget.js';
import { C2SSession } from './xmpp/c2s/session.js';
import { startIdleSweep } from './xmpp/c2s/idle-sweep.js';
import type { StreamTransport } from './xmpp/transport.js';
import { createWebSocketEndpoint, type WebSocketEndpoint } from './xmpp/websocket.js';
import { refuseWithoutXmppSubprotocol } from './xmpp/websocket-subprotocol.js';
import type { WebSocketEdge } from './edge/supervisor.js';
import { createBoshEndpoint } from './bosh/endpoint.js';
import { clientAddress, trustList } from './http/client-address.js';
import type { SaslMechanism } from './xmpp/sasl/mechanism.js';
import { anonymousLocalPart, anonymousMechanism } from './xmpp/sasl/anonymous.js';
import { plainMechanism } from './xmpp/sasl/plain.js';
import { scramMechanism } from './xmpp/sasl/scram.js';
import type { AuthProvider } from './auth/provider.js';
import { AccountStore, acceptAnyPassword } from './auth/accounts.js';
import { installPing } from './xmpp/handlers/ping.js';
import { installVersion } from './xmpp/handlers/version.js';
import { installTime } from './xmpp/handlers/time.js';
import { installRoster } from './xmpp/handlers/roster.js';
import { installCarbons } from './xmpp/handlers/carbons.js';
import { installVcard } from './xmpp/handlers/vcard.js';
import { installLegacySession } from './xmpp/handlers/legacy-session.js';
import { createWebchatHandler, validateWebchat, webchatCacheDir, webchatOptions } from './webchat/index.js';
import { installOffline } from './xmpp/handlers/offline.js';
import { startHttpServer, type HttpHandler, type StandaloneHttp } from './http/server.js';
import { validateTcp } from './xmpp/tcp/config.js';
import { startTcpListeners, type TcpListeners } from './xmpp/tcp/listener.js';
import { WriteCoalescer } from './xmpp/write-coalescing.js';
import { SharedWakeups } from './shared-wakeups.js';
import { CertificateStore, validateCerts } from './certs/index.js';
import { createMucService, type MucService } from './muc/service.js';
import { validateMuc, type CreationCallback } from './muc/config.js';
import { validateBot } from './bot/config.js';
import type { ModerationBot } from './bot/moderation-bot.js';
import { validateS2s } from './s2s/config.js';
import type { S2sService } from './s2s/service.js';
import { validateArchive } from './storage/config.js';
import { FileArchive } from './storage/archive.js';
import { MucArchiveBridge } from './mam/muc-bridge.js';
import { installPersonalMam } from './mam/personal.js';
import { validateAvatars } from './avatars/config.js';
import { AvatarService, type AvatarProvider, type DrawnAvatar } from './avatars/service.js';
import { DrawnAhead } from './avatars/drawn-ahead.js';
import { avatarHttpHandler } from './avatars/http.js';
import { createC2SFeatures, resourceBindingFeature, transportSecurityFeature } from './xmpp/c2s/features.js';
import { saslMechanismsFeature } from './xmpp/sasl/feature.js';
import { streamManagementFeature } from './xmpp/c2s/sm.js';
import { startAdminChannel, type AdminChannel } from './control/channel.js';
import { onlineAdmin } from './control/online.js';
import { whenIdle } from './loop-idleness.js';
import { requestPath } from './http/request-path.js';

/** The rehearsal's earliest start after the server started (then in the first idle second). */
const REHEARSAL_AFTER_MS = 2000;

export { validateConfig, type ServerConfig } from './config.js';
export type { AuthProvider } from './auth/provider.js';
export type { Logger } from './log.js';
export type { CreationCallback, RoomSeed } from './muc/config.js';
export type { Affiliation, RoomConfig } from './muc/types.js';
export { createWebchatHandler, webchatCacheDir, type WebchatHandler, type WebchatOptions } from './webchat/index.js';
export { clientAddress, plainAddress, trustList, type TrustProxy } from './http/client-address.js';
export { readServerInfos, type StoredServerInfos } from './s2s/server-infos.js';
// The importer's light entry points only: the rest of it loads when there is something to import.
export { importLivechatOnFirstStart } from './import/livechat/first-start.js';
export { readChannelEmojis, readChannelOptions } from './import/livechat/layout.js';
export type { LivechatImportReport } from './import/livechat/import.js';
export type { AvatarProvider, Avatar, AvatarService } from './avatars/service.js';

export interface CreateServerOptions {
  /** Checks account logins on the main domain (the PeerTube wrapper's token check). Default: the accounts file. */
  auth?: AuthProvider;
  logger?: Logger;
  /**
   * Decides who may create which room and seeds it (name, owners, admins); false refuses. Setting it switches
   * the MUC's creation policy to 'callback' (the PeerTube plugin: a room only for a video that has a chat).
   */
  onCreateRoom?: CreationCallback;
  /** Vetoes new joins to an existing room (false: not-allowed); occupants already in are not affected. */
  mayJoinRoom?: (roomJid: string, userBareJid: string) => boolean;
  /**
   * A livechat peer opened WebSocket S2S to us announcing its base URL (`peertube-livechat-ws-s2s-instance-url`):
   * the PeerTube plugin may fetch that instance's federation infos into the serverInfos folder.
   */
  onS2sPeerInstanceUrl?(url: string): void;
  /** Avatars of the application's users (PeerTube accounts): image bytes or an http(s) URL, cached per JID. */
  avatarProvider?: AvatarProvider;
  /**
   * The client's address of a WebSocket or BOSH request, for per-IP limits and bans, when the host server knows it
   * better (PeerTube: Express's req.ip under its "trust proxy"). Default: `http.trustedProxies` and X-Forwarded-For.
   */
  clientAddress?(req: IncomingMessage): string | undefined;
}

export interface XmppServer {
  readonly config: ServerConfig;
  readonly router: Router;
  readonly iq: IqRegistry;
  readonly disco: DiscoRegistry;
  readonly log: Logger;
  /** The account store, when the server manages its own accounts. */
  readonly accounts: AccountStore | null;
  /** The MUC service (room.<domain>): the rooms API for the PeerTube plugin. */
  readonly muc: MucService;
  /** The in-process moderation bot, when `bot.enabled` (once started). */
  readonly bot: ModerationBot | null;
  /** Occupant avatars (computed, bot, provider): `avatars.forgetAccount(jid)` when a user changes theirs. */
  readonly avatars: AvatarService;
  /** Anonymous addresses made ahead with their avatars drawn (null when off: no anonymous host or avatars). */
  readonly drawnAhead: DrawnAhead<DrawnAvatar> | null;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** For an existing HTTP server's 'upgrade' event: returns false when the request is not for us. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /**
   * Server-to-server over WebSocket (XEP-0468) for an existing HTTP server, whatever path it mounts it on (PeerTube's
   * registerWebSocketRoute); false when `s2s.websocket.enabled` is off. handleUpgrade also takes it on its own path.
   */
  handleS2sUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** For an existing HTTP server's 'request' event (BOSH, web chat, avatars): false when not ours. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  /** RFC 7395 WebSocket upgrade for an existing HTTP server, whatever path it mounts it on (the plugin's ws route). */
  handleWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** BOSH (XEP-0124/0206) for an existing HTTP server, whatever path it mounts it on. */
  handleBosh(req: IncomingMessage, res: ServerResponse): boolean;
  /** Mounts another HTTP handler (modules: BOSH, web chat page, avatars). */
  addHttpHandler(h: HttpHandler): void;
  /** Runs on stop(), in reverse order of registration (modules flush their storage here). */
  onStop(fn: () => Promise<void> | void): void;
  /** The standalone HTTP server's bound address, once started with http.listen. */
  httpAddress(): { host: string; port: number } | null;
  /** Starts a session on a transport (used by BOSH and TCP transports). */
  acceptTransport(t: StreamTransport & { handler?: unknown }): C2SSession;
  /** Live connections (for metrics and tests). */
  readonly connectionCount: number;
  /** The send-buffer budget shared by all client connections (drops, recounts). */
  readonly sendBudget: SendBudget;
  /** The certificate store (TCP c2s and S2S), once started with either enabled. */
  readonly certs: CertificateStore | null;
  /** Bound c2s TCP addresses, once started. */
  tcpAddresses(): TcpListeners['addresses'] | null;
  /** Server-to-server (remote domains), when enabled (once started). */
  readonly s2s: S2sService | null;
  /** The WebSocket edge process, when `websocket.edge` is `process` (once started). */
  readonly edge: WebSocketEdge | null;
}

export function createServer(input: unknown = {}, options: CreateServerOptions = {}): XmppServer {
  const config = isValidated(input) ? input : validateConfig(input);
  const tcpConfig = validateTcp(config.modules.tcp, 'tcp');
  const certsConfig = validateCerts(config.modules.certs, 'certs');
  const s2sConfig = validateS2s(config.modules.s2s, 's2s');
  const log = options.logger ?? consoleLogger(config.logLevel, 'xmpp', config.logFormat);
  const iq = new IqRegistry();
  const disco = new DiscoRegistry();
  const router = new Router(iq, log);
  const connections = new Set<Connection>();
  const userHosts = [config.domain, ...(config.anonymousHost ? [config.anonymousHost] : [])];
  for (const h of userHosts) router.addUserHost(h);

  let accounts: AccountStore | null = null;
  let auth: AuthProvider = options.auth ?? (config.testMode ? acceptAnyPassword : { checkPassword: async () => false });

  const kindOf = (domain: string): HostKind | undefined =>
    domain === config.domain ? 'accounts' : domain === config.anonymousHost ? 'anonymous' : undefined;
  disco.install(iq, kindOf);
  installPing(iq, disco);
  installVersion(iq, disco);
  installTime(iq, disco);
  installRoster(iq);
  // Stream features, each registered by the module that owns it, in the order clients see them.
  const c2sFeatures = createC2SFeatures();
  c2sFeatures.preAuth.add(transportSecurityFeature);
  c2sFeatures.preAuth.add(saslMechanismsFeature((host, t) => mechanisms(host, t)));
  c2sFeatures.postAuth.add(resourceBindingFeature);
  installLegacySession(iq, c2sFeatures.postAuth);
  if (config.streamManagement.enabled) c2sFeatures.postAuth.add(streamManagementFeature);
  installCarbons(iq, disco, router);
  // Whose account this server holds, and which addresses are its anonymous sessions (avatars, vCards, MAM, MUC).
  const isAccount = (bare: string): boolean => bare.endsWith(`@${config.domain}`);
  const isAnonymous = (bare: string): boolean => !!config.anonymousHost && bare.endsWith(`@${config.anonymousHost}`);
  const avatars = new AvatarService(validateAvatars(config.modules.avatars, 'avatars'), {
    log,
    provider: options.avatarProvider,
    isAccount,
    isAnonymous,
  });
  // Anonymous addresses made ahead with their avatars drawn in idle time (started with the server, see start()).
  const anonHost = config.anonymousHost;
  const drawnAhead =
    anonHost && avatars.enabled && avatars.config.drawAhead > 0
      ? new DrawnAhead<DrawnAvatar>({
          size: avatars.config.drawAhead,
          newLocal: anonymousLocalPart,
          // Started only once the avatar parts are loaded (start()), so there is always a drawing.
          draw: (local) => avatars.drawAhead(`${local}@${anonHost}`)!,
          adopt: (local, drawn) => avatars.adopt(`${local}@${anonHost}`, drawn),
        })
      : null;
  const takeAnonymousLocal = drawnAhead ? (): string | undefined => drawnAhead.take() : undefined;
  const vcards = installVcard(iq, disco, {
    dataDir: config.dataDir,
    domain: config.domain,
    // Anonymous viewers have no stored vCard: answer with their computed avatar, the one their occupants show.
    fallback: (bare) => {
      const seed = avatars.anonymousSeed(bare);
      return seed === undefined ? undefined : avatars.forSeed(seed)?.vcard;
    },
  });
  const offline = installOffline(router, disco, { dataDir: config.dataDir, domain: config.domain, log });
  const mucConfig = validateMuc(config.modules.muc, 'muc', config.mucHost);
  if (options.onCreateRoom) mucConfig.creation = 'callback';
  const webchatConfig = validateWebchat(config.modules.webchat, 'webchat');
  // The write-coalescing window's wake-ups, at which the archive writes while a busy room's window is due.
  const wakeups = new SharedWakeups();
  // The durable room archive (issue 4): segmented files under <dataDir>/archive, MAM on rooms.
  const archive = new FileArchive(config.dataDir, validateArchive(config.modules.archive, 'archive'), {
    log: (level, msg) => log[level](msg),
    pruneUnopened: false,
    wakeups,
  });
  const archiveBridge = new MucArchiveBridge(archive, {
    // A requester gone meanwhile (nobody takes the result) has nobody to tell.
    send: (r) => void router.deliverPrepared(r.to, r),
    onError: (m) => log.error(m),
  });
  const personalMam = installPersonalMam(iq, disco, router, archive, {
    dataDir: config.dataDir,
    isAccount,
    maxPage: archive.config.maxPage,
    log,
  });
  // Operational figures at http.metricsPath (OpenMetrics), fed by the router, the c2s sessions and the rooms.
  const metrics = new ServerMetrics({
    sessions: () => connections.size,
    rooms: () => muc.rooms.size,
    occupants: () => {
      let n = 0;
      for (const r of muc.rooms.values()) n += r.occupantCount;
      return n;
    },
    stanzasRouted: () => router.routed,
    archiveQueueBytes: () => archive.stats().pendingBytes,
    archiveWrites: () => archive.stats().writes,
  });
  const muc = createMucService({
    router,
    log,
    config: mucConfig,
    dataDir: config.dataDir,
    archive: archiveBridge,
    mam: archiveBridge,
    observeFanout: (s, n) => metrics.fanout(s, n),
    isServerAdmin: (bare) => config.admins.includes(bare),
    isAccount,
    onCreateRoom: options.onCreateRoom,
    mayJoin: options.mayJoinRoom,
    avatars,
    isAnonymous,
  });
  disco.addItem(muc.domain, 'Chatrooms');
  const botConfig = validateBot(config.modules.bot, 'bot', {
    dataDir: config.dataDir,
    domain: config.domain,
    mucHost: config.mucHost,
  });
  // The bot, S2S and the WebSocket edge are made in start(), and their code loaded there, only when enabled: a
  // server without them does not hold their modules (re2js for the bot's rules alone is ~260 KB of source).
  let bot: ModerationBot | null = null;
  let s2s: S2sService | null = null;
  let edge: WebSocketEdge | null = null;
  router.accountExists = (bare) => {
    const [user, host] = bare.split('@');
    return host === config.domain && !!auth.userExists?.(user);
  };

  const mechanisms = (host: string, t: StreamTransport): SaslMechanism[] => {
    if (host === config.anonymousHost) return [anonymousMechanism(takeAnonymousLocal)];
    const list: SaslMechanism[] = [];
    if (auth.getScramCredentials) {
      if (t.channelBinding?.('tls-exporter') || t.channelBinding?.('tls-server-end-point')) {
        list.push(scramMechanism(auth, 'sha-256', true), scramMechanism(auth, 'sha-1', true));
      }
      list.push(scramMechanism(auth, 'sha-256'), scramMechanism(auth, 'sha-1'));
    }
    if (t.secure) list.push(plainMechanism(auth));
    return list;
  };

  const ctx: C2SContext = {
    config,
    router,
    log,
    limiter: new AuthLimiter(),
    resumption: new ResumptionRegistry(),
    isAnonymousHost: (h) => h === config.anonymousHost,
    isUserHost: (h) => userHosts.includes(h),
    mechanisms,
    features: c2sFeatures,
    connections,
    stats: metrics,
    sendBudget: new SendBudget(
      config.limits.maxTotalSendBufferBytes,
      () => connections,
      (_c, bytes, total) => {
        log.info(
          `send buffers hold ${total} bytes, over limits.maxTotalSendBufferBytes: dropping a client holding ${bytes}`,
        );
      },
    ),
  };

  const connectionRate = new ConnectionRate(config.limits);
  const acceptTransport = (t: StreamTransport & { handler?: unknown }) => {
    const s = new C2SSession(ctx, t);
    t.handler = s;
    // Over the address's connection rate: the stream opens only to carry the error (RFC 6120 §4.9.1.1).
    if (t.kind !== 'bosh' && !connectionRate.admit(t.remoteAddress))
      s.streamError('policy-violation', 'too many connections from your address');
    return s;
  };

  const trust = trustList(config.http.trustedProxies);
  const addressOf = (req: IncomingMessage): string => options.clientAddress?.(req) || clientAddress(req, trust);
  // One coalescer (one timer) for every client connection's held writes; the edge process has its own, with the
  // same settings, for the connections it serves.
  const coalescing = {
    windowMs: config.c2s.coalesceMs,
    maxHeldBytes: config.c2s.coalesceMaxBytes,
    maxWindowMs: config.c2s.coalesceMaxMs,
    writesPerSecond: config.c2s.coalesceWritesPerSecond,
    minFanoutPerSecond: config.c2s.coalesceMinFanoutPerSecond,
  };
  const coalescer = new WriteCoalescer({ ...coalescing, wakeups });
  const ws: WebSocketEndpoint = createWebSocketEndpoint({
    addressOf,
    coalescer,
    path: config.http.websocketPath,
    maxStanzaSize: config.limits.maxStanzaSize,
    secure: config.http.considerSecure,
    accept: (t) => acceptTransport(t),
  });
  // websocket.edge = process: plain-TCP upgrades are handed to a child process that does the WebSocket framing.
  const startEdge = async (): Promise<void> => {
    if (config.websocket.edge !== 'process') return;
    const { WebSocketEdge } = await import('./edge/supervisor.js');
    edge ??= new WebSocketEdge(
      {
        maxStanzaSize: config.limits.maxStanzaSize,
        secure: config.http.considerSecure,
        coalescing,
        accept: (t) => acceptTransport(t),
        addressOf,
        adoptHttp: (socket, head) => (http ? http.adopt(socket, head) : socket.destroy()),
        maxBacklogBytes: config.limits.maxTotalSendBufferBytes,
      },
      log,
    );
    await edge.start();
  };
  const upgradeWebSocket = (req: IncomingMessage, socket: Duplex, head: Buffer, pathOverride = false): boolean => {
    if (!edge) return ws.handleUpgrade(req, socket, head, pathOverride);
    if (!pathOverride && requestPath(req) !== config.http.websocketPath) return false;
    if (!edge.canTake(socket)) return ws.handleUpgrade(req, socket, head, true);
    // The client's address is resolved here, where the request's proxy headers are.
    if (!refuseWithoutXmppSubprotocol(req, socket)) edge.handoff(req, socket, head, addressOf(req));
    return true;
  };

  const httpHandlers: HttpHandler[] = [];
  const stopHooks: Array<() => Promise<void> | void> = [];
  let http: StandaloneHttp | null = null;
  let stopSweep: (() => void) | null = null;
  let certs: CertificateStore | null = null;
  let tcp: TcpListeners | null = null;
  let started = false;
  let adminChannel: AdminChannel | null = null;
  // The start's rehearsal (src/rehearsal.ts): waiting for an idle moment, then running until done or stopped.
  let cancelRehearsal: (() => void) | null = null;
  let rehearsal: Promise<void> | null = null;
  let rehearsalAbort: AbortController | null = null;
  const bosh = createBoshEndpoint({
    config,
    log,
    addressOf,
    coalescer,
    accept: (t) => acceptTransport(t),
    admit: (address) => connectionRate.admit(address),
  });
  httpHandlers.push(bosh.handle);
  httpHandlers.push(avatarHttpHandler(avatars));
  stopHooks.push(() => bosh.close());
  if (webchatConfig.enabled && config.anonymousHost) {
    const webchat = createWebchatHandler(
      webchatOptions(
        webchatConfig,
        {
          anonymousHost: config.anonymousHost,
          mucHost: config.mucHost,
          http: config.http,
          avatarsPath: avatars.enabled ? avatars.config.httpPath : undefined,
          cacheDir: webchatCacheDir(config.dataDir),
        },
        mucConfig.demoRoom,
        log,
      ),
    );
    httpHandlers.push(webchat);
    stopHooks.push(() => webchat.close());
  }

  const server: XmppServer = {
    config,
    router,
    iq,
    disco,
    log,
    get accounts() {
      return accounts;
    },
    muc,
    get bot() {
      return bot;
    },
    avatars,
    drawnAhead,
    get connectionCount() {
      return connections.size;
    },
    sendBudget: ctx.sendBudget,
    get certs() {
      return certs;
    },
    tcpAddresses: () => tcp?.addresses ?? null,
    get s2s() {
      return s2s;
    },
    get edge() {
      return edge;
    },
    async start() {
      if (started) return;
      started = true;
      await mkdir(config.dataDir, { recursive: true });
      await archive.init();
      await avatars.start(); // the parts' masks only: avatars themselves are made on first use, or ahead in idle time
      if (avatars.canDraw) drawnAhead?.start();
      await muc.start();
      if (botConfig.enabled) {
        const { ModerationBot } = await import('./bot/moderation-bot.js');
        bot ??= new ModerationBot(botConfig, router, muc, log);
        await bot.start();
      }
      archive.startPruning();
      if (!options.auth && !config.testMode) {
        accounts = await AccountStore.open(config.dataDir);
        auth = accounts;
      }
      stopSweep = startIdleSweep(connections, config.limits);
      await startEdge();
      if (!s2s && (s2sConfig.enabled || s2sConfig.websocket.enabled)) {
        const { S2sService } = await import('./s2s/service.js');
        s2s = new S2sService({
          config: s2sConfig,
          router,
          log,
          dataDir: config.dataDir,
          domains: [...userHosts, config.mucHost],
          limits: config.limits,
          httpSecure: config.http.considerSecure,
          ...(options.onS2sPeerInstanceUrl ? { onPeerInstanceUrl: options.onS2sPeerInstanceUrl } : {}),
        });
      }
      if (tcpConfig.enabled || s2s) {
        certs = await CertificateStore.create({
          dataDir: config.dataDir,
          hosts: [config.domain, ...(config.anonymousHost ? [config.anonymousHost] : []), config.mucHost],
          folder: certsConfig.folder,
          log,
        });
        if (certsConfig.watch && certsConfig.folder) certs.watch();
      }
      if (certs && tcpConfig.enabled) {
        tcp = await startTcpListeners(tcpConfig, {
          certs,
          maxStanzaSize: config.limits.maxStanzaSize,
          coalescer,
          accept: (t) => acceptTransport(t),
        });
        const where = [
          ...tcp.addresses.starttls.map((a) => `${a.host}:${a.port} (STARTTLS)`),
          ...tcp.addresses.directTls.map((a) => `${a.host}:${a.port} (direct TLS)`),
        ];
        log.info(`XMPP clients over TCP on ${where.join(', ')}`);
      }
      if (certs && s2s) {
        await s2s.start(certs);
        const tcpS2s = s2s.addresses?.starttls.map((a) => `${a.host}:${a.port}`) ?? [];
        if (tcpS2s.length) log.info(`XMPP servers (S2S) on ${tcpS2s.join(', ')}`);
        if (s2sConfig.websocket.enabled)
          log.info(`XMPP servers over WebSocket (XEP-0468) on ${s2sConfig.websocket.path}`);
      }
      if (config.http.listen) {
        http = await startHttpServer(
          config.http.host,
          config.http.port,
          server,
          config.limits.acceptsPerLoopTurn,
          edge !== null,
        );
        if (http.acceptHandlesError)
          log.warn(`http: one connection accepted per loop turn only (${http.acceptHandlesError})`);
        if (edge) {
          const standalone = http;
          edge.shareListener({
            ...standalone.listener,
            path: config.http.websocketPath,
            copies: config.limits.acceptsPerLoopTurn,
            // The edge then accepts alone: connections this process accepted would cross the IPC channel to it one
            // per event-loop turn, which in a storm are long.
            edgeAccepts: () => {
              if (!standalone.pauseAccepting()) log.warn('http: no spare listening handle; both processes accept');
            },
            edgeGone: () => void standalone.resumeAccepting(),
          });
        }
        log.info(
          `listening on http://${http.address.host}:${http.address.port} (WebSocket ${config.http.websocketPath})`,
        );
      }
      // The command line's admin verbs reach this running server here instead of editing its files behind its back.
      adminChannel = await startAdminChannel(
        config.dataDir,
        onlineAdmin({
          domain: config.domain,
          muc,
          accounts: () => accounts,
          settled: async () => {
            await muc.flush();
            await archive.deletionsSettled();
          },
        }),
      ).catch((err: Error) => {
        log.warn(`${err.message}; admin verbs will edit the data folder directly`);
        return null;
      });
      log.info(`serving ${userHosts.join(', ')}${config.testMode ? ' in TEST MODE (any password accepted)' : ''}`);
      const anonymousHost = config.anonymousHost;
      if (config.rehearsal && anonymousHost) {
        const abort = (rehearsalAbort = new AbortController());
        cancelRehearsal = whenIdle(
          () => {
            cancelRehearsal = null;
            rehearsal = import('./rehearsal.js')
              .then(({ rehearse }) =>
                rehearse({
                  anonymousHost,
                  mucHost: config.mucHost,
                  muc,
                  upgrade: (req, socket, head) => upgradeWebSocket(req, socket, head, true),
                  log,
                  signal: abort.signal,
                }),
              )
              .catch((err: unknown) => log.warn(`rehearsal failed: ${(err as Error)?.stack ?? String(err)}`));
          },
          { afterMs: REHEARSAL_AFTER_MS },
        );
      }
    },
    async stop() {
      if (!started) return;
      started = false;
      cancelRehearsal?.();
      rehearsalAbort?.abort();
      await rehearsal;
      rehearsal = null;
      await adminChannel?.close();
      adminChannel = null;
      stopSweep?.();
      drawnAhead?.stop();
      bot?.stop();
      await muc.stop(); // occupants get 332 while their connections are still open
      await personalMam.flush();
      for (const c of [...connections]) c.close('system-shutdown');
      ws.close();
      await edge?.stop();
      if (tcp) await tcp.close();
      await s2s?.stop();
      tcp = null;
      certs?.close();
      if (http) await http.close();
      http = null;
      for (const fn of [...stopHooks].reverse()) {
        try {
          await fn();
        } catch (err) {
          log.error(`stop hook failed: ${(err as Error).stack}`);
        }
      }
      await accounts?.flush();
      await vcards.flush();
      await offline.flush();
      await archive.close(); // last: the MUC and every session that could append are gone
      log.info('stopped');
    },
    handleUpgrade: (req, socket, head) =>
      !!s2s?.websocket?.handleUpgrade(req, socket, head) || upgradeWebSocket(req, socket, head),
    handleWebSocket: (req, socket, head) => {
      upgradeWebSocket(req, socket, head, true);
    },
    handleS2sUpgrade: (req, socket, head) => !!s2s?.websocket?.handleUpgrade(req, socket, head, true),
    handleBosh: (req, res) => bosh.handle(req, res, true),
    handleRequest(req, res) {
      if (config.http.metricsPath && serveMetrics(req, res, config.http.metricsPath, metrics)) return true;
      for (const h of httpHandlers) if (h(req, res)) return true;
      return false;
    },
    addHttpHandler(h) {
      httpHandlers.push(h);
    },
    onStop(fn) {
      stopHooks.push(fn);
    },
    httpAddress: () => http?.address ?? null,
    acceptTransport,
  };
  return server;
}

/** GET <metricsPath>: the OpenMetrics text. */
function serveMetrics(req: IncomingMessage, res: ServerResponse, path: string, metrics: ServerMetrics): boolean {
  if (requestPath(req) !== path) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
    res.end('method not allowed\n');
    return true;
  }
  const body = metrics.render();
  res.writeHead(200, { 'content-type': OPENMETRICS_CONTENT_TYPE, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}

function isValidated(x: unknown): x is ServerConfig {
  return (
    !!x &&
    typeof x === 'object' &&
    'modules' in x &&
    'limits' in x &&
    typeof (x as ServerConfig).dataDir === 'string' &&
    'http' in x &&
    typeof (x as ServerConfig).http.listen === 'boolean'
  );
}
