// Everything a c2s session needs from the server, passed in one object so sessions hold no globals.
import type { ServerConfig } from '../../config.js';
import type { Logger } from '../../log.js';
import type { Router } from '../router.js';
import type { SaslMechanism } from '../sasl/mechanism.js';
import type { StreamTransport } from '../transport.js';
import type { AuthLimiter } from './auth-limiter.js';
import type { ResumptionRegistry } from '../stream-management.js';
import type { ServerStats } from '../../metrics/server-metrics.js';
import type { SendBudget } from './send-budget.js';
import type { C2SFeatures } from './features.js';

export interface C2SContext {
  config: ServerConfig;
  router: Router;
  log: Logger;
  limiter: AuthLimiter;
  resumption: ResumptionRegistry;
  /** The user hosts: accounts on config.domain, anonymous viewers on config.anonymousHost. */
  isAnonymousHost(host: string): boolean;
  isUserHost(host: string): boolean;
  /** SASL mechanisms offered for a host over a transport. */
  mechanisms(host: string, transport: StreamTransport): SaslMechanism[];
  /** Stream features before and after authentication, registered by the modules that own them. */
  features: C2SFeatures;
  /** Live connections, for shutdown and idle sweeps. */
  connections: Set<Connection>;
  /** Operational counters (/metrics), when the server keeps them. */
  stats?: Pick<ServerStats, 'stanzaReceived' | 'slowClientDropped'>;
  /** The send-buffer budget shared by all connections (limits.maxTotalSendBufferBytes). */
  sendBudget: SendBudget;
}

/** The view of a session that the server's sweeps and shutdown need. */
export interface Connection {
  /** Start of the authentication deadline (stalls of the server excused). */
  readonly authClockStart: number;
  readonly lastActivity: number;
  readonly isAuthenticated: boolean;
  readonly pingOutstanding: boolean;
  /** When the outstanding keepalive ping was sent. */
  readonly pingSentAt: number;
  /** The server was stalled for `ms`: that time is not the client's silence. */
  excuseStall(ms: number): void;
  /** Kept by the send budget: the buffer size it last saw. */
  budgetBytes: number;
  bufferedBytes(): number;
  keepAlive(): void;
  fail(condition: import('../errors.js').StreamErrorCondition, text?: string): void;
  close(condition?: 'system-shutdown'): void;
}
