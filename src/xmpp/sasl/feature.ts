// The SASL mechanisms feature (RFC 6120 §6.4.1): the mechanisms the server accepts for this host over this
// transport, none while the transport still refuses authentication (TLS required but not on yet).
import { el } from '../xml.js';
import { NS } from '../namespaces.js';
import type { StreamTransport } from '../transport.js';
import type { SaslMechanism } from './mechanism.js';

export function saslMechanismsFeature(mechanisms: (host: string, transport: StreamTransport) => SaslMechanism[]) {
  return {
    name: 'sasl',
    offer: (s: { host: string; transport: StreamTransport }) => {
      if (s.transport.offersSasl?.() === false) return undefined;
      return el(
        'mechanisms',
        { xmlns: NS.SASL },
        ...mechanisms(s.host, s.transport).map((m) => el('mechanism', {}, m.name)),
      );
    },
  };
}
