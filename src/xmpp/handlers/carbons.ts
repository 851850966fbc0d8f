// XEP-0280 message carbons on account hosts: a user's other resources see the one-to-one chat it sends and gets.
import type { IqRegistry } from '../iq-registry.js';
import type { DiscoRegistry } from '../disco.js';
import type { Router } from '../router.js';
import type { LocalSession } from '../session-types.js';
import { NS } from '../namespaces.js';
import { cloneElement, el, type Element } from '../xml.js';
import { StanzaError } from '../errors.js';

/** Which messages are carbon-copied (XEP-0280 §6): chat with content, not private, not MUC. */
function eligible(m: Element): boolean {
  if ((m.attrs.type ?? 'normal') !== 'chat') return false;
  if (m.getChild('private', NS.CARBONS) || m.getChild('no-copy', NS.HINTS)) return false;
  if (m.getChild('x', NS.MUC_USER)) return false;
  if (m.getChild('received', NS.CARBONS) || m.getChild('sent', NS.CARBONS)) return false;
  return true;
}

function wrap(kind: 'sent' | 'received', m: Element, bare: string, to: string): Element {
  return el(
    'message',
    { xmlns: NS.CLIENT, from: bare, to, type: m.attrs.type },
    el(kind, { xmlns: NS.CARBONS }, el('forwarded', { xmlns: NS.FORWARD }, cloneElement(m))),
  );
}

export function installCarbons(iq: IqRegistry, disco: DiscoRegistry, router: Router): void {
  disco.addFeature(NS.CARBONS, ['accounts']);
  // Anonymous viewers may switch carbons on too (ConverseJS always asks): with a single resource it changes
  // nothing, and refusing would cost every viewer an error round trip at join.
  const toggle =
    (on: boolean) =>
    ({ session }: { session?: LocalSession }) => {
      if (!session) throw new StanzaError('not-allowed', 'carbons are for connected clients');
      (session as { carbons: boolean }).carbons = on;
    };
  iq.register('server', 'enable', NS.CARBONS, 'set', toggle(true));
  iq.register('server', 'disable', NS.CARBONS, 'set', toggle(false));

  router.observe('messageDelivered', (m, bare, recipients) => {
    if (!eligible(m)) return;
    for (const r of router.resourcesOf(bare)) {
      if (r.carbons && !recipients.includes(r)) r.send(wrap('received', m, bare, r.fullJid));
    }
  });
  router.observe('messageSent', (m, sender) => {
    if (!eligible(m)) return;
    for (const r of router.resourcesOf(sender.bareJid)) {
      if (r !== sender && r.carbons && r.fullJid !== m.attrs.to) r.send(wrap('sent', m, sender.bareJid, r.fullJid));
    }
  });
}
