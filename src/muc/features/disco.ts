// Room disco (XEP-0045 §6.4): identity, the features every setting contributes, and the muc#roominfo form with the
// occupant count; the x-roomuser-item node tells a user its reserved nickname (§7.10). Occupants are not listed in
// disco#items: in a live-stream room that is thousands of items and the viewers' privacy.
import { el } from '../../xmpp/xml.js';
import { buildForm, type FormField } from '../forms.js';
import { MUC_NS } from '../types.js';
import type { FeatureContext } from './util.js';
import { bareString } from '../../xmpp/jid.js';

export function install({ hooks, iq }: FeatureContext): void {
  iq.register('query', MUC_NS.DISCO_INFO, 'get', ({ room, payload, from }) => {
    const node = payload.attrs.node;
    if (node === 'x-roomuser-item') {
      const q = el('query', { xmlns: MUC_NS.DISCO_INFO, node });
      const nick = room.affiliations.get(bareString(from))?.nick;
      if (nick) q.append(el('identity', { category: 'conference', name: nick, type: 'text' }));
      return q;
    }
    const features = new Set<string>([MUC_NS.MUC, MUC_NS.STABLE_ID, MUC_NS.DISCO_INFO, MUC_NS.DISCO_ITEMS]);
    const fields: FormField[] = [];
    hooks.fire('disco-info', { room, features, fields, from: from.toString() });
    fields.push({ var: 'muc#roominfo_occupants', label: 'Number of occupants', values: [String(room.occupantCount)] });
    const q = el(
      'query',
      { xmlns: MUC_NS.DISCO_INFO, node },
      el('identity', { category: 'conference', type: 'text', name: room.config.name || room.localpart }),
    );
    for (const f of [...features].sort()) q.append(el('feature', { var: f }));
    q.append(buildForm('result', MUC_NS.ROOMINFO, fields));
    return q;
  });
  iq.register('query', MUC_NS.DISCO_ITEMS, 'get', ({ payload }) =>
    el('query', { xmlns: MUC_NS.DISCO_ITEMS, node: payload.attrs.node }),
  );
}
