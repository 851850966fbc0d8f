// RFC 6121 roster: these accounts keep no contacts (a live chat needs none), but clients such as ConverseJS ask
// for the roster on login, so they get an empty one; pushes are refused.
import type { IqRegistry } from '../iq-registry.js';
import { NS } from '../namespaces.js';
import { StanzaError } from '../errors.js';
import { PreSerializedElement } from '../prepared.js';

// the same bytes for everyone, serialized once (shared: never mutated)
const EMPTY_ROSTER = PreSerializedElement.of(`<query xmlns="${NS.ROSTER}" ver="0"/>`);

export function installRoster(iq: IqRegistry): void {
  iq.register('account', 'query', NS.ROSTER, 'get', ({ session, to }) => {
    if (!session || session.bareJid !== to) throw new StanzaError('forbidden');
    return EMPTY_ROSTER;
  });
  iq.register('account', 'query', NS.ROSTER, 'set', ({ session, to }) => {
    if (!session || session.bareJid !== to) throw new StanzaError('forbidden');
    throw new StanzaError('not-allowed', 'this server keeps no rosters');
  });
}
