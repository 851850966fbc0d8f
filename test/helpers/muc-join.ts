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
