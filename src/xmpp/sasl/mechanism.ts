// The shape every SASL mechanism takes (RFC 6120 §6): a stepwise exchange that ends in success or failure.
export type SaslFailure =
  | 'aborted'
  | 'account-disabled'
  | 'credentials-expired'
  | 'encryption-required'
  | 'incorrect-encoding'
  | 'invalid-authzid'
  | 'invalid-mechanism'
  | 'malformed-request'
  | 'mechanism-too-weak'
  | 'not-authorized'
  | 'temporary-auth-failure';

export type SaslStep =
  | { kind: 'challenge'; data: Buffer }
  | { kind: 'success'; username: string; data?: Buffer }
  | { kind: 'failure'; condition: SaslFailure; text?: string };

export interface SaslExchange {
  /** Called with the initial response (may be null: none sent), then with each client response. */
  step(data: Buffer | null): Promise<SaslStep>;
}

export interface SaslContext {
  /** The host the stream is for. */
  host: string;
  /** Channel binding data the transport can provide (SCRAM-PLUS), by type. */
  channelBinding?(type: string): Buffer | undefined;
}

export interface SaslMechanism {
  readonly name: string;
  start(ctx: SaslContext): SaslExchange;
}

export function failure(condition: SaslFailure, text?: string): SaslStep {
  return { kind: 'failure', condition, text };
}
