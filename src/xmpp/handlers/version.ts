// XEP-0092 software version.
import type { IqRegistry } from '../iq-registry.js';
import type { DiscoRegistry } from '../disco.js';
import { NS } from '../namespaces.js';
import { el } from '../xml.js';

export const SOFTWARE_NAME = 'livechat-xmpp';
export const SOFTWARE_VERSION = '0.1.0';

export function installVersion(iq: IqRegistry, disco: DiscoRegistry): void {
  disco.addFeature(NS.VERSION);
  iq.register('server', 'query', NS.VERSION, 'get', () =>
    el(
      'query',
      { xmlns: NS.VERSION },
      el('name', {}, SOFTWARE_NAME),
      el('version', {}, SOFTWARE_VERSION),
      el('os', {}, `Node.js ${process.version}`),
    ),
  );
}
