// XEP-0054 vCard of the room itself: ConverseJS asks for it on every join. A room has none yet (room avatars would
// come with XEP-0486), so it answers with an empty vCard: clients cache that instead of retrying after an error.
import { el } from '../../xmpp/xml.js';
import { MUC_NS } from '../types.js';
import type { FeatureContext } from './util.js';

export function install({ iq }: FeatureContext): void {
  iq.register('vCard', MUC_NS.VCARD, 'get', () => el('vCard', { xmlns: MUC_NS.VCARD }));
}
