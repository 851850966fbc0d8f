// The server's own figures for operators: what the counters mean and where they are fed from. Modules get the
// small `ServerStats` view (count a stanza, a dropped client, a fan-out) and never see the registry.
import { Counter, Histogram, MetricsRegistry } from './openmetrics.js';

/** What modules report; every member is cheap enough for the hot path. */
export interface ServerStats {
  /** A stanza received from a client stream. */
  stanzaReceived(): void;
  /** A client that stopped reading was disconnected (its send buffer passed the bound). */
  slowClientDropped(): void;
  /** One room message fanned out to `recipients` occupants in `seconds`. */
  fanout(seconds: number, recipients: number): void;
}

/** Fan-out buckets: from 100 µs (a small room) to 1 s (a very large one on a loaded machine). */
const FANOUT_BOUNDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export interface MetricsSources {
  sessions(): number;
  rooms(): number;
  occupants(): number;
  stanzasRouted(): number;
  archiveQueueBytes(): number;
  archiveWrites(): number;
}

export class ServerMetrics implements ServerStats {
  readonly registry = new MetricsRegistry();
  private received: Counter;
  private dropped: Counter;
  private deliveries: Counter;
  private fanoutSeconds: Histogram;

  constructor(src: MetricsSources) {
    const r = this.registry;
    r.gauge('xmpp_sessions', 'Client connections (WebSocket, BOSH, TCP), authenticated or not.', src.sessions);
    r.gauge('xmpp_muc_rooms', 'Rooms in memory.', src.rooms);
    r.gauge('xmpp_muc_occupants', 'Occupants across all rooms.', src.occupants);
    this.received = r.counter('xmpp_stanzas_received', 'Stanzas received from client streams.');
    r.counterFrom('xmpp_stanzas_routed', 'Stanzas routed between clients, rooms and servers.', src.stanzasRouted);
    this.deliveries = r.counter('xmpp_muc_fanout_deliveries', 'Room messages delivered to occupants.');
    this.fanoutSeconds = r.histogram(
      'xmpp_muc_fanout_seconds',
      'Time to fan one room message out to every occupant.',
      FANOUT_BOUNDS,
    );
    r.gauge(
      'xmpp_archive_write_queue_bytes',
      'Archived messages waiting to be written to disk.',
      src.archiveQueueBytes,
    );
    r.counterFrom(
      'xmpp_archive_writes',
      'Batches of archived messages written to disk (one write each, synced unless archive.fsync is never).',
      src.archiveWrites,
    );
    this.dropped = r.counter('xmpp_slow_clients_dropped', 'Clients disconnected because they stopped reading.');
  }

  stanzaReceived(): void {
    this.received.inc();
  }
  slowClientDropped(): void {
    this.dropped.inc();
  }
  fanout(seconds: number, recipients: number): void {
    this.fanoutSeconds.observe(seconds);
    this.deliveries.inc(recipients);
  }

  render(): string {
    return this.registry.render();
  }
}
