// @xmpp/client (a real client nobody here wrote) set up for tests: WebSocket from `ws` in Node 20, helpers to
// wait for stanzas, and clean stop.
import { WebSocket } from 'ws';
import { client, xml } from '@xmpp/client';

// @xmpp/websocket uses the global WebSocket, which Node 20 does not have.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

export { xml };

export type Stanza = ReturnType<typeof xml>;

export interface TestClient {
  xmpp: ReturnType<typeof client>;
  jid: string;
  received: Stanza[];
  /** Resolves with the first stanza (already received or future) matching `pred`. */
  waitFor(pred: (s: Stanza) => boolean, timeoutMs?: number, what?: string): Promise<Stanza>;
  send(s: Stanza): Promise<void>;
  iq(s: Stanza, timeoutMs?: number): Promise<Stanza>;
  stop(): Promise<void>;
}

export interface ClientOptions {
  service: string;
  domain: string;
  username?: string;
  password?: string;
  resource?: string;
  /** Force a SASL mechanism (e.g. 'PLAIN'). */
  mechanism?: string;
  streamManagement?: boolean;
  /** Keep @xmpp/client's automatic reconnection (and so XEP-0198 resumption) on. */
  reconnect?: boolean;
  /** Open the WebSocket from this loopback address (127.0.0.2 …), as a viewer on another machine would. */
  localAddress?: string;
  /** Extra HTTP headers on the WebSocket upgrade (e.g. the X-Forwarded-For a reverse proxy adds). */
  headers?: Record<string, string>;
}

/** Runs `start` while @xmpp/websocket's global WebSocket opens its connection from `localAddress` with `headers`. */
async function withSocketFrom<T>(
  localAddress: string,
  headers: Record<string, string>,
  start: () => Promise<T>,
): Promise<T> {
  const g = globalThis as { WebSocket?: unknown };
  const saved = g.WebSocket;
  g.WebSocket = class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { localAddress, headers });
    }
  };
  try {
    return await start();
  } finally {
    g.WebSocket = saved;
  }
}

export async function connectClient(o: ClientOptions): Promise<TestClient> {
  const credentials = o.mechanism
    ? async (authenticate: (c: unknown, m: string) => Promise<void>) =>
        authenticate({ username: o.username, password: o.password }, o.mechanism!)
    : o.username
      ? { username: o.username, password: o.password }
      : undefined;
  const xmpp = client({
    service: o.service,
    domain: o.domain,
    resource: o.resource,
    credentials: credentials as never,
  });
  if (!o.reconnect) xmpp.reconnect.stop();
  xmpp.on('error', () => {
    /* surfaced through start() or waitFor timeouts */
  });
  if (o.streamManagement === false) (xmpp.streamManagement as { enabled?: boolean }).enabled = false;
  const received: Stanza[] = [];
  const waiters: Array<{ pred: (s: Stanza) => boolean; resolve: (s: Stanza) => void }> = [];
  xmpp.on('stanza', (s: Stanza) => {
    received.push(s);
    for (const w of [...waiters]) {
      if (w.pred(s)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(s);
      }
    }
  });
  const address = o.localAddress
    ? await withSocketFrom(o.localAddress, o.headers ?? {}, () => xmpp.start())
    : await xmpp.start();
  return {
    xmpp,
    jid: address.toString(),
    received,
    waitFor(pred, timeoutMs = 5000, what = 'stanza') {
      const found = received.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          resolve: (s: Stanza) => {
            clearTimeout(t);
            resolve(s);
          },
        };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    send: (s) => xmpp.send(s),
    iq: (s, timeoutMs = 5000) => xmpp.iqCaller.request(s, timeoutMs),
    async stop() {
      xmpp.reconnect.stop();
      try {
        await xmpp.stop();
      } catch {
        /* already gone */
      }
    },
  };
}
