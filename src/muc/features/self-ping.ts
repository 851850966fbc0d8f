// XEP-0410 MUC self-ping: a client pings its own occupant JID to learn whether it is still joined. The room answers
// itself (muc#self-ping-optimization) instead of forwarding to the client.
import { StanzaError } from '../../xmpp/errors.js';
import { el } from '../../xmpp/xml.js';
import { MUC_NS } from '../types.js';
import type { FeatureContext } from './util.js';

export function install({ hooks }: FeatureContext): void {
  hooks.on('occupant-iq', ({ room, stanza, from, payload, sender, target }) => {
    if (!payload?.is('ping', MUC_NS.PING) || stanza.attrs.type !== 'get') return;
    if (!sender) throw new StanzaError('not-acceptable', 'You are not currently connected to this chat', 'cancel');
    if (target !== sender) return; // pinging someone else: forwarded like any iq
    room.router.route(el('iq', { type: 'result', id: stanza.attrs.id, from: stanza.attrs.to, to: from.toString() }));
    return true;
  });
  hooks.on('disco-info', ({ features }) => {
    features.add(MUC_NS.SELF_PING);
  });
}
