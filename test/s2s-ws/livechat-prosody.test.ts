// Federation with an existing peertube-plugin-livechat instance over WebSocket S2S: Debian's Prosody with livechat's
// modules as the real peer (it sends unmasked frames and a legacy stream header), both directions: a Prosody user
// joins a room here, and our viewer joins a room on the Prosody.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { roomScenario, T, codes } from '../s2s/helpers/scenario.js';
import { startLivechatProsody, type LivechatPeer } from './helpers/livechat-prosody.js';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // Prosody's c2s certificate is self-signed
const MUC = 'http://jabber.org/protocol/muc';
let ours: TestServer;
let peer: LivechatPeer;
const clients: TestClient[] = [];

test.before(async () => {
  peer = await startLivechatProsody('peer.example');
  const url = peer.wsS2sUrl;
  ours = await startTestServer({
    domain: 'ours.example',
    testMode: true,
    muc: { creation: 'anyone' },
    s2s: {
      websocket: {
        enabled: true,
        instanceUrl: 'http://ours.example',
        routes: { 'peer.example': url, 'room.peer.example': url },
      },
    },
  });
  await peer.addRemote(
    ['ours.example', 'anon.ours.example', 'room.ours.example'],
    'ours.example',
    `ws://127.0.0.1:${ours.port}/xmpp-websocket-s2s`,
  );
  await peer.register('alice', 'alice-pass-1');
  await peer.register('carol', 'carol-pass-1');
});

test.after(async () => {
  for (const c of clients) await c.stop().catch(() => {});
  await ours?.stop();
  if (process.env.S2S_DEBUG) await writeFile(process.env.S2S_DEBUG, (await peer?.readLog()) ?? '');
  await peer?.stop();
});

const onPeer = async (user: string) => {
  const c = await connectClient({
    service: `xmpp://127.0.0.1:${peer.c2sPort}`,
    domain: peer.domain,
    username: user,
    password: `${user}-pass-1`,
  });
  clients.push(c);
  return c;
};

roomScenario(test, () => ({
  transport: 'websocket',
  host: { server: ours, domain: 'ours.example' },
  remote: { domain: 'peer.example', bare: 'alice@peer.example', connect: () => onPeer('alice') },
}));

test("livechat's Prosody reached us with its quirks: unmasked frames, legacy header; we reached it too", async () => {
  const st = ours.server.s2s!.status();
  const inc = st.incoming.filter((i) => i.verified.some((v) => v.startsWith('peer.example|')));
  assert.ok(inc.length > 0, JSON.stringify(st.incoming));
  assert.ok(
    inc.every((i) => i.transport === 'websocket' && i.unmaskedFrames > 0),
    JSON.stringify(inc),
  );
  assert.ok(
    inc.some((i) => i.framing === 'legacy'),
    JSON.stringify(inc),
  );
  const out = st.outgoing.filter((o) => o.remote === 'peer.example' && o.state === 'ready');
  assert.ok(
    out.length > 0 && out.every((o) => o.transport === 'websocket' && o.auth === 'dialback'),
    JSON.stringify(st.outgoing),
  );
});

test('our anonymous viewer joins a room on the Prosody, chats and exchanges PMs with a Prosody user', async () => {
  const room = 'lobby@room.peer.example';
  const carol = await onPeer('carol');
  await carol.send(xml('presence', { to: `${room}/carol` }, xml('x', { xmlns: MUC })));
  await carol.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${room}/carol` && codes(s).includes('110'),
    T,
    'carol in',
  );
  const v = await connectClient({ service: ours.wsUrl, domain: 'anon.ours.example' });
  clients.push(v);
  await v.send(xml('presence', { to: `${room}/viewer` }, xml('x', { xmlns: MUC })));
  const self = await v.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${room}/viewer` && codes(s).includes('110'),
    T,
    'our viewer in the Prosody room',
  );
  assert.is(self.attrs.type, undefined, self.toString());
  await v.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/carol`, T, 'carol seen by our viewer');
  await carol.waitFor(
    (s) => s.is('presence') && s.attrs.from === `${room}/viewer` && !s.attrs.type,
    T,
    'our viewer seen by carol',
  );
  await v.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, 'hello livechat')));
  const g1 = await carol.waitFor((s) => s.getChildText('body') === 'hello livechat', T, 'groupchat at carol');
  assert.is(g1.attrs.from, `${room}/viewer`);
  await carol.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, 'hello server')));
  const g2 = await v.waitFor((s) => s.getChildText('body') === 'hello server', T, 'groupchat at our viewer');
  assert.is(g2.attrs.from, `${room}/carol`);
  await carol.send(
    xml(
      'message',
      { to: `${room}/viewer`, type: 'chat' },
      xml('body', {}, 'pm to viewer'),
      xml('x', { xmlns: `${MUC}#user` }),
    ),
  );
  await v.waitFor((s) => s.getChildText('body') === 'pm to viewer', T, 'PM at our viewer');
  await v.send(
    xml(
      'message',
      { to: `${room}/carol`, type: 'chat' },
      xml('body', {}, 'pm to carol'),
      xml('x', { xmlns: `${MUC}#user` }),
    ),
  );
  await carol.waitFor((s) => s.getChildText('body') === 'pm to carol', T, 'PM at carol');
});

test.run();
