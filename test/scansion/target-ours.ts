// Our server in its test mode, one instance per script with a fresh data dir.
//
// API used (src/index.ts):
//   createServer({ domain: 'localhost', mucHost: 'conference.localhost', testMode: true,
//                  http: { host: '127.0.0.1', port: 0 }, tcp: {...}, dataDir, logLevel })
//     testMode: any password accepted, admin@localhost is a server admin. Never on by default.
//   await server.start(); server.httpAddress() → { host, port }
//   WebSocket endpoint at /xmpp-websocket (the config default; override with SCANSION_WS_PATH)
//   TCP (SCANSION_TRANSPORT=tcp): tcp section on port 0 without required TLS,
//     server.tcpAddresses().starttls[0].port; otherwise the TCP listener is disabled (it would
//     default to port 5222).
//   await server.stop()
import { access, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerTarget, Transport } from './target.js';

const INDEX_TS = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
const INDEX_JS = new URL('../../src/index.js', import.meta.url).href;

interface OurServer {
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  httpAddress?(): unknown;
  tcpAddresses?(): { starttls?: unknown[] } | null;
}
type CreateServer = (config: Record<string, unknown>) => OurServer | Promise<OurServer>;

/** The server's createServer, or why it cannot be loaded (a failure of the suite, never a skip). */
async function loadCreateServer(): Promise<CreateServer | string> {
  try {
    await access(INDEX_TS);
  } catch {
    return 'src/index.ts does not exist';
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(INDEX_JS)) as Record<string, unknown>;
  } catch (err) {
    return `importing src/index.ts failed: ${(err as Error).stack ?? err}`;
  }
  if (typeof mod.createServer !== 'function') return 'src/index.ts exports no createServer';
  return mod.createServer as CreateServer;
}

/** Accepts { port }, an AddressInfo, a number or a URL string. */
function portOf(addr: unknown, what: string): number {
  if (typeof addr === 'number') return addr;
  if (typeof addr === 'string') {
    const m = /:(\d+)(?:\/|$)/.exec(addr);
    if (m) return Number(m[1]);
  }
  if (addr && typeof addr === 'object' && typeof (addr as { port?: unknown }).port === 'number')
    return (addr as { port: number }).port;
  throw new Error(`cannot tell the ${what} port from ${JSON.stringify(addr)}`);
}

export function oursTarget(transport: Transport): ServerTarget {
  let create: CreateServer | string | undefined;
  const load = async () => (create ??= await loadCreateServer());
  return {
    name: 'ours',
    async unavailable() {
      const c = await load();
      return typeof c === 'string' ? c : undefined;
    },
    async start() {
      const c = await load();
      if (typeof c === 'string') throw new Error(c);
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'scansion-ours-'));
      const config: Record<string, unknown> = {
        domain: 'localhost',
        mucHost: 'conference.localhost',
        testMode: true,
        http: { host: '127.0.0.1', port: 0 },
        tcp:
          transport === 'tcp'
            ? { enabled: true, interfaces: ['127.0.0.1'], port: 0, requireEncryption: false }
            : { enabled: false },
        dataDir,
        logLevel: process.env.SCANSION_LOG_LEVEL ?? 'error',
      };
      let server: OurServer | undefined;
      let stopped = false;
      const stop = async () => {
        if (stopped) return;
        stopped = true;
        try {
          await server?.stop();
        } finally {
          await rm(dataDir, { recursive: true, force: true });
        }
      };
      try {
        server = await c(config);
        await server.start();
        if (transport === 'tcp') {
          const addr = typeof server.tcpAddresses === 'function' ? server.tcpAddresses()?.starttls?.[0] : undefined;
          if (!addr)
            throw new Error('server has no TCP c2s listener (tcpAddresses()): TCP transport not available yet');
          return { endpoint: { transport: 'tcp', host: '127.0.0.1', port: portOf(addr, 'c2s') }, stop };
        }
        if (typeof server.httpAddress !== 'function') throw new Error('server has no httpAddress()');
        const port = portOf(server.httpAddress(), 'HTTP');
        const wsPath = process.env.SCANSION_WS_PATH ?? '/xmpp-websocket';
        return { endpoint: { transport: 'websocket', url: `ws://127.0.0.1:${port}${wsPath}` }, stop };
      } catch (err) {
        await stop().catch(() => {});
        throw err;
      }
    },
  };
}
