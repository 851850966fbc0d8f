// A server the scripts run against. Each script gets a fresh instance (state wiped between
// scripts, as the transcripts assume), started by `start()` and removed by the returned `stop()`.
import type { Endpoint } from './client.js';
import type { Target } from './waivers.js';

export interface RunningServer {
  /** Where clients connect (WebSocket by default; TCP when SCANSION_TRANSPORT=tcp and supported). */
  endpoint: Endpoint;
  /** Stops the server and removes its data; safe to call twice. */
  stop(): Promise<void>;
  /** Extra diagnostics for a failed script (e.g. the tail of a server log). */
  diagnostics?(): Promise<string>;
}

export interface ServerTarget {
  name: Target;
  /** Why this target cannot run here (e.g. "importing src/index.ts failed"), or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  start(): Promise<RunningServer>;
}

export type Transport = Endpoint['transport'];

export function transportFromEnv(): Transport {
  const t = process.env.SCANSION_TRANSPORT ?? 'websocket';
  if (t !== 'websocket' && t !== 'tcp') throw new Error(`SCANSION_TRANSPORT must be websocket or tcp, not "${t}"`);
  return t;
}

export async function targetFromEnv(): Promise<ServerTarget> {
  const name = process.env.SCANSION_TARGET ?? 'ours';
  const transport = transportFromEnv();
  if (name === 'prosody') return (await import('./target-prosody.js')).prosodyTarget(transport);
  if (name === 'ours') return (await import('./target-ours.js')).oursTarget(transport);
  throw new Error(`SCANSION_TARGET must be "ours" or "prosody", not "${name}"`);
}
