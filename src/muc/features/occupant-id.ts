// XEP-0421 occupant-id: a stable, anonymous id per real bare JID and room, on every presence and groupchat message,
// so clients (and moderators) can tell a renamed occupant is the same person without learning the JID.
import { el } from '../../xmpp/xml.js';
import { MUC_NS } from '../types.js';
import type { FeatureContext } from './util.js';

export function install({ hooks }: FeatureContext): void {
  hooks.on('presence-out', ({ occupant, stanza }) => {
    stanza.append(el('occupant-id', { xmlns: MUC_NS.OCCUPANT_ID, id: occupant.occupantId }));
  });
  hooks.on(
    'groupchat-out',
    ({ occupant, stanza }) => {
      stanza.append(el('occupant-id', { xmlns: MUC_NS.OCCUPANT_ID, id: occupant.occupantId }));
    },
    10,
  );
  hooks.on('disco-info', ({ features }) => {
    features.add(MUC_NS.OCCUPANT_ID);
  });
}
