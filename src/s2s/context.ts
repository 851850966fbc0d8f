// What incoming and outgoing S2S streams need from the service, so neither imports the other.
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import type tls from 'node:tls';
import type { Element } from '../xmpp/xml.js';
import type { Logger } from '../log.js';
import type { S2sConfig } from './config.js';
import type { DialbackKeys } from './dialback-key.js';
import type { TrustStore } from './peer-cert.js';
import type { StreamFeatures } from '../xmpp/stream-features.js';
import type { S2SFeatureStream } from './features.js';

export interface S2sContext {
  readonly config: S2sConfig;
  readonly log: Logger;
  readonly maxStanzaSize: number;
  readonly maxSendBufferBytes: number;
  readonly authTimeoutSeconds: number;
  readonly keys: DialbackKeys;
  readonly trust: TrustStore;
  /** Features offered on incoming streams, registered by the concerns that own them. */
  readonly features: StreamFeatures<S2SFeatureStream>;
  /** Domains this server answers for on S2S (domain, anon.domain, room.domain). */
  isLocalDomain(domain: string): boolean;
  /** Receiving side of STARTTLS and direct TLS: asks for the peer's certificate without requiring it. */
  wrapServerSocket(socket: net.Socket): Promise<tls.TLSSocket>;
  /** Initiating side: our certificate for `local` (offered for SASL EXTERNAL), SNI for `remote`. */
  clientTlsOptions(local: string, remote: string): tls.ConnectionOptions;
  /** Hands a stanza with a verified `from` to the router. */
  route(stanza: Element): void;
  /** Receiving role of dialback: asks `remote`'s authoritative server whether `key` is genuine. */
  verifyDialback(local: string, remote: string, streamId: string, key: string): Promise<boolean>;
}

/** A fresh, unguessable stream id: dialback keys are bound to it, so it must never repeat. */
export function newStreamId(): string {
  return randomBytes(12).toString('base64url');
}
