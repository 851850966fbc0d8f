// A room with a WebSocket sender already in it and a BOSH viewer logged in (not yet joined): the setup of the BOSH
// tests that watch a room's stanzas reach a viewer's responses.
import type { Raw } from '../../src/config-schema.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { RawBosh } from './raw.js';

export interface RoomWithBoshViewer {
  srv: TestServer;
  sender: TestClient;
  viewer: RawBosh;
}

/** Starts a server with `config`, joins the sender to `room` as `nick` and logs the BOSH viewer in, into `ctx`. */
export async function openRoomWithBoshViewer(
  ctx: RoomWithBoshViewer,
  room: string,
  nick: string,
  config: Raw = {},
): Promise<void> {
  ctx.srv = await startTestServer(config);
  ctx.sender = await connectClient({ service: ctx.srv.wsUrl, domain: 'anon.localhost', streamManagement: false });
  await ctx.sender.send(
    xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
  );
  await ctx.sender.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/${nick}`, 15_000, 'own join');
  ctx.viewer = new RawBosh(`${ctx.srv.httpUrl}/http-bind`);
  await ctx.viewer.login();
}

/** Ends what openRoomWithBoshViewer started, as far as it got. */
export async function closeRoomWithBoshViewer(ctx: Partial<RoomWithBoshViewer>): Promise<void> {
  await ctx.viewer?.send('', { type: 'terminate' }).catch(() => {});
  await ctx.sender?.stop();
  await ctx.srv?.stop();
}
