// XEP-0202 entity time.
import type { IqRegistry } from '../iq-registry.js';
import type { DiscoRegistry } from '../disco.js';
import { NS } from '../namespaces.js';
import { el } from '../xml.js';

export function installTime(iq: IqRegistry, disco: DiscoRegistry): void {
  disco.addFeature(NS.TIME);
  iq.register('server', 'time', NS.TIME, 'get', () =>
    el(
      'time',
      { xmlns: NS.TIME },
      el('tzo', {}, 'Z'),
      el('utc', {}, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')),
    ),
  );
}
