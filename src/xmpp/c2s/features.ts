// The c2s stream's feature registries and the features the c2s core itself owns: what the transport offers
// before authentication (STARTTLS, XEP-0440 channel-binding types) and resource binding after it.
import { el } from '../xml.js';
import { NS } from '../namespaces.js';
import { StreamFeatures } from '../stream-features.js';
import type { StreamTransport } from '../transport.js';

/** What a feature may look at to decide what to offer on one c2s stream. */
export interface C2SFeatureStream {
  /** The host the stream is for (`to` of the header). */
  readonly host: string;
  readonly anonymous: boolean;
  readonly transport: StreamTransport;
}

export interface C2SFeatures {
  /** Offered on a new stream, before SASL. */
  readonly preAuth: StreamFeatures<C2SFeatureStream>;
  /** Offered on the stream restarted after SASL success. */
  readonly postAuth: StreamFeatures<C2SFeatureStream>;
}

export function createC2SFeatures(): C2SFeatures {
  return { preAuth: new StreamFeatures(), postAuth: new StreamFeatures() };
}

/** STARTTLS before TLS, the channel-binding types after it: the transport knows which. */
export const transportSecurityFeature = {
  name: 'transport-security',
  offer: (s: C2SFeatureStream) => s.transport.preAuthFeatures?.(),
};

/** RFC 6120 §7 resource binding (handled by the session before it is established). */
export const resourceBindingFeature = {
  name: 'bind',
  offer: () => el('bind', { xmlns: NS.BIND }),
};
