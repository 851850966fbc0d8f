// Our server in the benchmark's own process (so the benchmark can read its heap and counters): a throwaway data
// folder, an ephemeral HTTP port on loopback, no TCP c2s, no logs, one demo room for the viewers to join.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type XmppServer } from '../../src/index.js';
import { silentLogger } from '../../src/log.js';

export interface InProcessServer {
  server: XmppServer;
  dataDir: string;
  /** The WebSocket endpoint viewers connect to. */
  url: string;
  /** Stops the server and removes its data folder. */
  stop(): Promise<void>;
}

/**
 * `demoRoom` names the room (on room.localhost); `noAvatars` turns generated avatars off (`--no-avatars`);
 * `noWebchat` turns the web chat page off (its assets load in the background after start).
 */
export async function startInProcessServer(opts: {
  name: string;
  demoRoom: string;
  noAvatars: boolean;
  noWebchat?: boolean;
  /** avatars.cacheSize (default: the server's). */
  avatarCacheSize?: number;
}): Promise<InProcessServer> {
  const dataDir = await mkdtemp(join(tmpdir(), `bench-${opts.name}-`));
  const server = createServer(
    {
      domain: 'localhost',
      dataDir,
      logLevel: 'warn',
      http: { host: '127.0.0.1', port: 0 },
      tcp: { enabled: false },
      muc: { demoRoom: opts.demoRoom },
      ...(opts.noAvatars
        ? { avatars: { set: 'none' as const } }
        : opts.avatarCacheSize
          ? { avatars: { cacheSize: opts.avatarCacheSize } }
          : {}),
      ...(opts.noWebchat ? { webchat: { enabled: false } } : {}),
    },
    { logger: silentLogger },
  );
  await server.start();
  return {
    server,
    dataDir,
    url: `ws://127.0.0.1:${server.httpAddress()!.port}/xmpp-websocket`,
    async stop() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
