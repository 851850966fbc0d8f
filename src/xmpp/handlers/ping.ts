// XEP-0199 ping: the server answers pings to itself (and to accounts on their behalf).
import type { IqRegistry } from '../iq-registry.js';
import type { DiscoRegistry } from '../disco.js';
import { NS } from '../namespaces.js';

export function installPing(iq: IqRegistry, disco: DiscoRegistry): void {
  disco.addFeature(NS.PING);
  iq.register('server', 'ping', NS.PING, 'get', () => undefined);
}
