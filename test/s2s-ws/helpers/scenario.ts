// What a PeerTube audience does across instances, over WebSocket S2S: a user of the remote instance joins a room
// hosted here, chats with a local anonymous viewer, exchanges private messages both ways, and is kicked then banned
// by the room's moderator (a local account that owns the room).
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectClient, xml, type Stanza, type TestClient } from '../../helpers/xmpp-client.js';
import type { TestServer } from '../../helpers/server.js';

const MUC = 'http://jabber.org/protocol/muc';
const MUC_USER = 'http://jabber.org/protocol/muc#user';
export const T = 20000; // first contact includes a WebSocket dial and a dialback round trip each way

export const codes = (s: Stanza) =>
  (
    s
      .getChildren('x')
      .find((x: Stanza) => x.attrs.xmlns === MUC_USER)
      ?.getChildren('status') ?? []
  ).map((c: Stanza) => c.attrs.code);

export interface HostSide {
  server: TestServer;
  domain: string;
}

export interface RemoteSide {
  /** A logged-in user of the remote server (fresh connection each call). */
  connect(): Promise<TestClient>;
  bare: string;
}

export function roomScenario(t: Test, env: () => { host: HostSide; remote: RemoteSide }): void {
  let mod: TestClient;
  let viewer: TestClient;
  let remote: TestClient;
  const room = () => `live@room.${env().host.domain}`;
  const from = (nick: string) => (s: Stanza) => s.attrs.from === `${room()}/${nick}`;
  const join = (c: TestClient, nick: string) =>
    c.send(xml('presence', { to: `${room()}/${nick}` }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '0' }))));

  t.after(async () => {
    for (const c of [mod, viewer, remote]) await c?.stop().catch(() => {});
  });

  t('the room owner (local account) and an anonymous viewer are in the room', async () => {
    const { host } = env();
    mod = await connectClient({
      service: host.server.wsUrl,
      domain: host.domain,
      username: 'streamer',
      password: 'pw',
    });
    await mod.send(xml('presence', { to: `${room()}/streamer` }, xml('x', { xmlns: MUC })));
    const self = await mod.waitFor(
      (s) => s.is('presence') && from('streamer')(s) && codes(s).includes('110'),
      5000,
      'owner self-presence',
    );
    if (codes(self).includes('201')) {
      await mod.iq(
        xml(
          'iq',
          { type: 'set', to: room() },
          xml('query', { xmlns: `${MUC}#owner` }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' })),
        ),
      );
    }
    viewer = await connectClient({ service: host.server.wsUrl, domain: `anon.${host.domain}` });
    await join(viewer, 'viewer');
    await viewer.waitFor(
      (s) => s.is('presence') && from('viewer')(s) && codes(s).includes('110'),
      5000,
      'viewer self-presence',
    );
  });

  t('a user of the remote instance joins over WebSocket S2S; everyone sees everyone', async () => {
    remote = await env().remote.connect();
    await join(remote, 'remote');
    const self = await remote.waitFor(
      (s) => s.is('presence') && from('remote')(s) && codes(s).includes('110'),
      T,
      'remote self-presence',
    );
    assert.is(self.attrs.type, undefined, self.toString());
    await remote.waitFor(
      (s) => s.is('presence') && from('viewer')(s) && !s.attrs.type,
      T,
      'viewer seen by the remote user',
    );
    await remote.waitFor(
      (s) => s.is('presence') && from('streamer')(s) && !s.attrs.type,
      T,
      'owner seen by the remote user',
    );
    await viewer.waitFor(
      (s) => s.is('presence') && from('remote')(s) && !s.attrs.type,
      T,
      'remote user seen by the viewer',
    );
  });

  t('the remote user and the anonymous viewer chat in the room', async () => {
    await remote.send(
      xml('message', { to: room(), type: 'groupchat' }, xml('body', {}, 'hello from the other instance')),
    );
    const m1 = await viewer.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'hello from the other instance',
      T,
      'remote groupchat at viewer',
    );
    assert.is(m1.attrs.from, `${room()}/remote`);
    await remote.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'hello from the other instance',
      T,
      'own echo at the remote user',
    );
    await viewer.send(xml('message', { to: room(), type: 'groupchat' }, xml('body', {}, 'welcome, remote')));
    const m2 = await remote.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'welcome, remote',
      T,
      'viewer groupchat at remote',
    );
    assert.is(m2.attrs.from, `${room()}/viewer`);
  });

  t('private messages go both ways between the remote user and the viewer', async () => {
    await remote.send(
      xml(
        'message',
        { to: `${room()}/viewer`, type: 'chat' },
        xml('body', {}, 'psst viewer'),
        xml('x', { xmlns: MUC_USER }),
      ),
    );
    const p1 = await viewer.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'psst viewer',
      T,
      'PM at viewer',
    );
    assert.is(p1.attrs.from, `${room()}/remote`);
    await viewer.send(
      xml(
        'message',
        { to: `${room()}/remote`, type: 'chat' },
        xml('body', {}, 'psst remote'),
        xml('x', { xmlns: MUC_USER }),
      ),
    );
    const p2 = await remote.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'psst remote',
      T,
      'PM at remote',
    );
    assert.is(p2.attrs.from, `${room()}/viewer`);
  });

  t('the moderator kicks the remote user (307), who sees it, as does the viewer', async () => {
    const r = await mod.iq(
      xml(
        'iq',
        { type: 'set', to: room() },
        xml(
          'query',
          { xmlns: `${MUC}#admin` },
          xml('item', { nick: 'remote', role: 'none' }, xml('reason', {}, 'cool down')),
        ),
      ),
      T,
    );
    assert.is(r.attrs.type, 'result');
    const k = await remote.waitFor(
      (s) => s.is('presence') && from('remote')(s) && s.attrs.type === 'unavailable',
      T,
      'kick at remote',
    );
    assert.ok(codes(k).includes('307'), k.toString());
    const kv = await viewer.waitFor(
      (s) => s.is('presence') && from('remote')(s) && s.attrs.type === 'unavailable',
      T,
      'kick at viewer',
    );
    assert.ok(codes(kv).includes('307'), kv.toString());
  });

  t('the moderator bans the remote account (301); it cannot come back (forbidden)', async () => {
    remote.received.length = 0;
    viewer.received.length = 0;
    await join(remote, 'remote2');
    await viewer.waitFor((s) => s.is('presence') && from('remote2')(s) && !s.attrs.type, T, 'rejoin at viewer');
    const r = await mod.iq(
      xml(
        'iq',
        { type: 'set', to: room() },
        xml(
          'query',
          { xmlns: `${MUC}#admin` },
          xml('item', { jid: env().remote.bare, affiliation: 'outcast' }, xml('reason', {}, 'spam')),
        ),
      ),
      T,
    );
    assert.is(r.attrs.type, 'result');
    const b = await remote.waitFor(
      (s) => s.is('presence') && from('remote2')(s) && s.attrs.type === 'unavailable',
      T,
      'ban at remote',
    );
    assert.ok(codes(b).includes('301'), b.toString());
    await join(remote, 'remote3');
    const e = await remote.waitFor(
      (s) => s.is('presence') && from('remote3')(s) && s.attrs.type === 'error',
      T,
      'refused rejoin',
    );
    assert.ok(e.getChild('error')?.getChild('forbidden', 'urn:ietf:params:xml:ns:xmpp-stanzas'), e.toString());
    assert.not.ok(
      viewer.received.some((s) => s.is('presence') && from('remote3')(s) && !s.attrs.type),
      'the viewer never saw the banned user back',
    );
  });
}
