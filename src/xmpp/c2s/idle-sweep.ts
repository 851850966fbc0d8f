// One timer for all connections (not one per socket): pings quiet clients, closes dead or never-authenticated ones.
import type { LimitsConfig } from '../../config.js';
import type { Connection } from './context.js';

const SWEEP_MS = 2000;

export function startIdleSweep(connections: Set<Connection>, limits: LimitsConfig): () => void {
  const timer = setInterval(() => {
    const now = Date.now();
    for (const c of connections) {
      if (!c.isAuthenticated && now - c.createdAt > limits.authTimeoutSeconds * 1000) {
        c.fail('connection-timeout', 'authentication took too long');
        continue;
      }
      const quiet = now - c.lastActivity;
      if (quiet > limits.idleTimeoutSeconds * 1000) c.fail('connection-timeout', 'no activity');
      else if (quiet > limits.pingAfterSeconds * 1000 && !c.pingOutstanding) c.keepAlive();
    }
  }, SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}
