// One timer for all connections (not one per socket): pings quiet clients, closes dead or never-authenticated ones.
import type { LimitsConfig } from '../../config.js';
import type { Connection } from './context.js';

const SWEEP_MS = 2000;

export function startIdleSweep(connections: Set<Connection>, limits: LimitsConfig): () => void {
  const pingAfterMs = limits.pingAfterSeconds * 1000;
  const idleMs = limits.idleTimeoutSeconds * 1000;
  let lastSweep = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    // While the event loop could not run this sweep it could not read the clients' answers either: that time is the
    // server's lateness (CPU starvation, a join storm), not the clients' silence, so it does not count against them.
    const stalled = Math.max(0, now - lastSweep - SWEEP_MS);
    lastSweep = now;
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
  }, SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}
