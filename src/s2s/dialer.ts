// How an outgoing S2S stream gets its transport: a dialer per route (TCP in tcp-dialer.ts, WebSocket in
// ws-dialer.ts), so outgoing.ts runs the same negotiation over either.
import type { S2sTransport } from './stream.js';

export type FailureKind = 'not-found' | 'timeout';

export class DialError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
  ) {
    super(message);
  }
}

/** Opens a transport for local → remote; `track` receives a canceller for the attempt in flight. */
export type S2sDialer = (local: string, remote: string, track: (cancel: () => void) => void) => Promise<S2sTransport>;
