// RFC 3921 session establishment, kept as an optional stream feature (RFC 6121 dropped it): clients such as
// Strophe (inside ConverseJS) still send the iq when the feature is listed, and treat an error as a failed login.
import type { IqRegistry } from '../iq-registry.js';
import { NS } from '../namespaces.js';
import { el } from '../xml.js';
import type { StreamFeatures } from '../stream-features.js';

export function installLegacySession(iq: IqRegistry, postAuthFeatures: StreamFeatures<unknown>): void {
  postAuthFeatures.add({ name: 'session', offer: () => el('session', { xmlns: NS.SESSION }, el('optional')) });
  iq.register('server', 'session', NS.SESSION, 'set', () => undefined);
}
