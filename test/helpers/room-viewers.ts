// Anonymous @xmpp/client viewers joining a room on a test server, without history, kept for the test to stop.
import type { TestServer } from './server.js';
import { connectClient, xml, type TestClient } from './xmpp-client.js';

const MUC = 'http://jabber.org/protocol/muc';

/** Logs in anonymously, joins `room` as `nick` (no history) and waits for its own presence; kept in `clients`. */
export async function joinAnonymously(
  srv: TestServer,
  room: string,
  nick: string,
  clients: TestClient[],
): Promise<TestClient> {
  const c = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost', streamManagement: false });
  clients.push(c);
  await c.send(
    xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '0' }))),
  );
  await c.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/${nick}`, 15_000, `${nick}'s join`);
  return c;
}
