// Starts our server in-process for a test, on an ephemeral port with a throwaway data folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type CreateServerOptions, type XmppServer } from '../../src/index.js';
import { silentLogger, consoleLogger } from '../../src/log.js';
import type { Raw } from '../../src/config-schema.js';
import { mergeRaw } from '../../src/config.js';

export interface TestServer {
  server: XmppServer;
  port: number;
  wsUrl: string;
  httpUrl: string;
  dataDir: string;
  /** Stops the server; removes the data folder unless keepData. */
  stop(keepData?: boolean): Promise<void>;
}

export async function startTestServer(
  overrides: Raw = {},
  opts: { dataDir?: string; options?: CreateServerOptions } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'xmpp-test-')));
  // TCP c2s is off unless a test asks for it (its default port 5222 would clash between tests).
  const raw = mergeRaw(
    // No start rehearsal (src/rehearsal.ts) unless a test asks: its viewers would count among a test's.
    {
      domain: 'localhost',
      dataDir,
      http: { host: '127.0.0.1', port: 0 },
      tcp: { enabled: false },
      logLevel: 'warn',
      rehearsal: false,
    },
    overrides,
  );
  const server = createServer(raw, {
    ...opts.options,
    logger: process.env.TEST_LOG ? consoleLogger('debug') : silentLogger,
  });
  await server.start();
  const { port } = server.httpAddress()!;
  return {
    server,
    port,
    wsUrl: `ws://127.0.0.1:${port}/xmpp-websocket`,
    httpUrl: `http://127.0.0.1:${port}`,
    dataDir,
    async stop(keepData = false) {
      await server.stop();
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
