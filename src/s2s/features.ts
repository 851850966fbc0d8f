// Features a receiving server offers on an incoming S2S stream, each from the concern that owns it: STARTTLS
// (RFC 6120 §5), SASL EXTERNAL with the peer's certificate (XEP-0178) and dialback with error support (XEP-0220,
// XEP-0344's `<errors/>`). Offered in this order.
import { el } from '../xmpp/xml.js';
import { NS } from '../xmpp/namespaces.js';
import { StreamFeatures } from '../xmpp/stream-features.js';
import type { S2sConfig } from './config.js';
import type { TrustStore } from './peer-cert.js';
import type { S2sTransport } from './stream.js';

/** What a feature may look at on one incoming stream. */
export interface S2SFeatureStream {
  readonly config: S2sConfig;
  readonly trust: TrustStore;
  readonly stream: S2sTransport;
  /** The header's `from` (the peer's claimed domain). */
  readonly from: string;
  /** SASL EXTERNAL already succeeded on this stream. */
  readonly saslDone: boolean;
}

export const startTlsFeature = {
  name: 'starttls',
  offer: ({ stream, config }: S2SFeatureStream) =>
    !stream.tlsSocket && stream.canStartTls
      ? el('starttls', { xmlns: NS.TLS }, config.requireEncryption || config.secureAuth ? el('required') : undefined)
      : undefined,
};

export const saslExternalFeature = {
  name: 'sasl-external',
  offer: ({ stream, from, saslDone, trust }: S2SFeatureStream) =>
    !saslDone && stream.tlsSocket && from && trust.validFor(stream.tlsSocket, from)
      ? el('mechanisms', { xmlns: NS.SASL }, el('mechanism', {}, 'EXTERNAL'))
      : undefined,
};

export const dialbackFeature = {
  name: 'dialback',
  offer: ({ stream, config }: S2SFeatureStream) =>
    stream.secure || !config.requireEncryption
      ? el('dialback', { xmlns: NS.DIALBACK_FEATURE }, el('errors'))
      : undefined,
};

export function incomingS2sFeatures(): StreamFeatures<S2SFeatureStream> {
  const f = new StreamFeatures<S2SFeatureStream>();
  f.add(startTlsFeature);
  f.add(saslExternalFeature);
  f.add(dialbackFeature);
  return f;
}
