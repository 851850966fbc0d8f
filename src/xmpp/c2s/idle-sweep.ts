// One timer for all connections (not one per socket): pings quiet clients, closes dead or never-authenticated ones.
import type { LimitsConfig } from '../../config.js';
import { startStallAwareSweep } from '../stall-sweep.js';
import type { Connection } from './context.js';

const SWEEP_MS = 2000;

export function startIdleSweep(connections: Set<Connection>, limits: LimitsConfig): () => void {
  const pingAfterMs = limits.pingAfterSeconds * 1000;
  const idleMs = limits.idleTimeoutSeconds * 1000;
  return startStallAwareSweep(SWEEP_MS, (now, stalled) => {
    for (const c of connections) {
      if (stalled > 0) c.excuseStall(stalled);
      if (!c.isAuthenticated && now - c.authClockStart > limits.authTimeoutSeconds * 1000) {
        c.fail('connection-timeout', 'authentication took too long');
        continue;
      }
      const quiet = now - c.lastActivity;
      if (quiet <= pingAfterMs) continue;
      if (!c.pingOutstanding) c.keepAlive();
      // The answer's deadline runs from the ping itself, so a ping sent late still gets its full time.
      else if (quiet > idleMs && now - c.pingSentAt > idleMs - pingAfterMs) c.fail('connection-timeout', 'no activity');
    }
  });
}
