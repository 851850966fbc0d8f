// Entering a MUC room (XEP-0045 §7.2) as a client does, for tests that need an occupant rather than test the join.
import { xml, type Stanza, type TestClient } from './xmpp-client.js';

const MUC = 'http://jabber.org/protocol/muc';

/** The status codes of a MUC presence (110 = this is you, 201 = new room, 303 = nick change…). */
export const statusCodes = (s: Stanza): string[] =>
  (s.getChild('x', `${MUC}#user`)?.getChildren('status') ?? []).map((c: Stanza) => c.attrs.code);

/**
 * Sends the join presence to `occupant` (room@service/nick) and resolves with the answer: the self-presence
 * (status 110) or the error presence. `history`: how many past messages to ask for (none asked by default);
 * `payload`: more children of the presence.
 */
export async function enterRoom(
  c: TestClient,
  occupant: string,
  opts: { history?: number; payload?: Stanza[]; timeoutMs?: number } = {},
): Promise<Stanza> {
  const history = opts.history === undefined ? undefined : xml('history', { maxstanzas: String(opts.history) });
  const since = c.received.length; // an earlier stay under the same nick does not count
  await c.send(xml('presence', { to: occupant }, xml('x', { xmlns: MUC }, history), ...(opts.payload ?? [])));
  return c.waitFor(
    (s) =>
      s.is('presence') &&
      s.attrs.from === occupant &&
      (s.attrs.type === 'error' || statusCodes(s).includes('110')) &&
      c.received.indexOf(s) >= since,
    opts.timeoutMs ?? 15000,
    `self-presence as ${occupant}`,
  );
}

/**
 * Unlocks the room the creator's self-presence `self` says was just made (status 201): a new room stays locked until
 * its owner accepts a configuration, here the instant one (XEP-0045 §10.1.2).
 */
export async function acceptInstantRoom(c: TestClient, room: string, self: Stanza): Promise<void> {
  if (!statusCodes(self).includes('201')) return;
  await c.iq(
    xml(
      'iq',
      { type: 'set', to: room },
      xml('query', { xmlns: `${MUC}#owner` }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' })),
    ),
  );
}
