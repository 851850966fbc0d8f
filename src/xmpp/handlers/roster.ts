// RFC 6121 roster: these accounts keep no contacts (a live chat needs none), but clients such as ConverseJS ask
// for the roster on login, so they get an empty one; pushes are refused.
import type { IqRegistry } from '../iq-registry.js';
import { NS } from '../namespaces.js';
import { el } from '../xml.js';
import { StanzaError } from '../errors.js';

export function installRoster(iq: IqRegistry): void {
  iq.register('account', 'query', NS.ROSTER, 'get', ({ session, to }) => {
    if (!session || session.bareJid !== to) throw new StanzaError('forbidden');
    return el('query', { xmlns: NS.ROSTER, ver: '0' });
  });
  iq.register('account', 'query', NS.ROSTER, 'set', ({ session, to }) => {
    if (!session || session.bareJid !== to) throw new StanzaError('forbidden');
    throw new StanzaError('not-allowed', 'this server keeps no rosters');
  });
}
