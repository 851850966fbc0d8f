// Debian's Prosody as a reference target: if the replay tool fails a script against this mature
// server, the tool is wrong (or the script needs a newer Prosody than Debian ships).
// One Prosody per script, in foreground, on loopback ports from 15000-15099 (this tool's range),
// with in-memory storage and a fresh temp dir (test/helpers/prosody.ts); stopped by PID.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { startProsody } from '../helpers/prosody.js';
import { fileURLToPath } from 'node:url';
import type { RunningServer, ServerTarget, Transport } from './target.js';

const CONFIG = fileURLToPath(new URL('./prosody/prosody.cfg.lua', import.meta.url));
const PORT_MIN = 15000;
const PORT_MAX = 15099;
const START_TIMEOUT_MS = 15_000;

export function prosodyTarget(transport: Transport): ServerTarget {
  return {
    name: 'prosody',
    async unavailable() {
      return (await findOnPath('prosody')) ? undefined : 'prosody is not installed (apt-get install prosody)';
    },
    async start() {
      const p = await startProsody({
        name: 'scansion-prosody',
        ports: { count: 2, base: PORT_MIN, span: PORT_MAX - PORT_MIN + 1 },
        timeoutMs: START_TIMEOUT_MS,
        configFile: {
          path: CONFIG,
          env: ({ dir, ports: [httpPort, c2sPort] }) => ({
            SCANSION_DIR: dir,
            SCANSION_HTTP_PORT: String(httpPort),
            SCANSION_C2S_PORT: String(c2sPort),
          }),
        },
        readyPorts: (ports) => ports,
        // The listeners are Prosody's own, not someone else's on the same port.
        readyLog: (log, ports) => ports.every((port) => log.includes(`[127.0.0.1]:${port}`)),
      });
      const [httpPort, c2sPort] = p.ports;
      const server: RunningServer = {
        endpoint:
          transport === 'tcp'
            ? { transport: 'tcp', host: '127.0.0.1', port: c2sPort }
            : { transport: 'websocket', url: `ws://127.0.0.1:${httpPort}/xmpp-websocket` },
        stop: p.stop,
        diagnostics: () => p.diagnostics(30),
      };
      return server;
    },
  };
}

async function findOnPath(cmd: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, cmd);
    try {
      await access(p);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}
