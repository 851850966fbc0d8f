// What a live-stream audience does across servers, over either S2S transport (TCP or WebSocket): a user of the remote
// server (Prosody, ejabberd, livechat's Prosody or a second instance of ours) joins a room hosted here, gets its
// history, chats with a local anonymous viewer, exchanges private messages both ways, changes nick, leaves, comes
// back, and is kicked then banned by the room's owner (a local account, as the streamer is in PeerTube).
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectClient, xml, type Stanza, type TestClient } from '../../helpers/xmpp-client.js';
import type { TestServer } from '../../helpers/server.js';

const MUC = 'http://jabber.org/protocol/muc';
const MUC_USER = 'http://jabber.org/protocol/muc#user';
/** First contact includes DNS or a WebSocket dial, TLS or not, and a dialback round trip each way. */
export const T = 20000;

export const codes = (s: Stanza) =>
  (s.getChild('x', MUC_USER)?.getChildren('status') ?? []).map((c: Stanza) => c.attrs.code);

export interface RoomScenarioEnv {
  transport: 'tcp' | 'websocket';
  /** Our server, hosting room.<domain>; it must accept any password for the owner's local account (testMode). */
  host: { server: TestServer; domain: string };
  remote: {
    /** The domain of the remote server, as its streams to us authenticate. */
    domain: string;
    /** The remote user's bare JID; its local part is the nick it joins with. */
    bare: string;
    /** Logs that user in on the remote server (called once). */
    connect(): Promise<TestClient>;
  };
}

export function roomScenario(t: Test, env: () => RoomScenarioEnv): void {
  let owner: TestClient;
  let viewer: TestClient;
  let remote: TestClient;
  const room = () => `live@room.${env().host.domain}`;
  const nick = () => env().remote.bare.split('@')[0];
  const from = (n: string) => (s: Stanza) => s.attrs.from === `${room()}/${n}`;
  const join = (c: TestClient, n: string, history = 0) =>
    c.send(
      xml('presence', { to: `${room()}/${n}` }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: `${history}` }))),
    );
  const joined = (c: TestClient, n: string, ms: number, what: string) =>
    c.waitFor((s) => s.is('presence') && from(n)(s) && codes(s).includes('110'), ms, what);
  const seen = (c: TestClient, n: string, what: string) =>
    c.waitFor((s) => s.is('presence') && from(n)(s) && !s.attrs.type, T, what);
  const gone = (c: TestClient, n: string, what: string) =>
    c.waitFor((s) => s.is('presence') && from(n)(s) && s.attrs.type === 'unavailable', T, what);
  const admin = (item: Record<string, string>, reason: string) =>
    owner.iq(
      xml(
        'iq',
        { type: 'set', to: room() },
        xml('query', { xmlns: `${MUC}#admin` }, xml('item', item, xml('reason', {}, reason))),
      ),
      T,
    );

  t.after(async () => {
    for (const c of [owner, viewer, remote]) await c?.stop().catch(() => {});
  });

  t('the room owner (local account) and an anonymous viewer are in the room; the viewer talks', async () => {
    const { host } = env();
    owner = await connectClient({
      service: host.server.wsUrl,
      domain: host.domain,
      username: 'streamer',
      password: 'pw',
    });
    await owner.send(xml('presence', { to: `${room()}/streamer` }, xml('x', { xmlns: MUC })));
    if (codes(await joined(owner, 'streamer', 5000, 'owner self-presence')).includes('201')) {
      // A fresh room: accept the default configuration.
      await owner.iq(
        xml(
          'iq',
          { type: 'set', to: room() },
          xml('query', { xmlns: `${MUC}#owner` }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' })),
        ),
      );
    }
    viewer = await connectClient({ service: host.server.wsUrl, domain: `anon.${host.domain}` });
    await join(viewer, 'viewer');
    await joined(viewer, 'viewer', 5000, 'viewer self-presence');
    await viewer.send(xml('message', { to: room(), type: 'groupchat' }, xml('body', {}, 'said before you came')));
    await viewer.waitFor((s) => s.is('message') && s.getChildText('body') === 'said before you came', 5000, 'own echo');
  });

  t('a user of the remote server joins over S2S; everyone sees everyone', async () => {
    const { remote: r } = env();
    remote = await r.connect();
    assert.ok(remote.jid.startsWith(`${r.bare}/`), remote.jid);
    await join(remote, nick(), 10);
    const self = await joined(remote, nick(), T, 'remote self-presence');
    assert.is(self.attrs.type, undefined, self.toString());
    await seen(remote, 'viewer', 'viewer seen by the remote user');
    await seen(remote, 'streamer', 'owner seen by the remote user');
    await seen(viewer, nick(), 'remote user seen by the viewer');
  });

  t('the remote user gets the room history', async () => {
    const h = await remote.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'said before you came',
      T,
      'history',
    );
    assert.is(h.attrs.from, `${room()}/viewer`);
    assert.ok(h.getChild('delay', 'urn:xmpp:delay'), 'history carries a delay stamp');
  });

  t('groupchat messages go both ways', async () => {
    await remote.send(xml('message', { to: room(), type: 'groupchat' }, xml('body', {}, 'hi from the peer')));
    const atViewer = await viewer.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'hi from the peer',
      T,
      'remote groupchat at viewer',
    );
    assert.is(atViewer.attrs.from, `${room()}/${nick()}`);
    await remote.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'hi from the peer',
      T,
      'echo at the remote user',
    );
    await viewer.send(xml('message', { to: room(), type: 'groupchat' }, xml('body', {}, 'hi from here')));
    const atRemote = await remote.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'hi from here' && !s.getChild('delay', 'urn:xmpp:delay'),
      T,
      'local groupchat at remote',
    );
    assert.is(atRemote.attrs.from, `${room()}/viewer`);
    assert.is(atRemote.attrs.type, 'groupchat');
  });

  t('private messages go both ways', async () => {
    const pm = (to: string, body: string) =>
      xml('message', { to: `${room()}/${to}`, type: 'chat' }, xml('body', {}, body), xml('x', { xmlns: MUC_USER }));
    await remote.send(pm('viewer', 'psst viewer'));
    const p1 = await viewer.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'psst viewer',
      T,
      'PM at viewer',
    );
    assert.is(p1.attrs.from, `${room()}/${nick()}`);
    await viewer.send(pm(nick(), 'psst remote'));
    const p2 = await remote.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'psst remote',
      T,
      'PM at remote',
    );
    assert.is(p2.attrs.from, `${room()}/viewer`);
  });

  t('the remote user discovers the room', async () => {
    const info = await remote.iq(
      xml('iq', { type: 'get', to: room() }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
      T,
    );
    const features = info
      .getChild('query')
      .getChildren('feature')
      .map((f: Stanza) => f.attrs.var);
    assert.ok(features.includes(MUC), features.join(' '));
  });

  t('the remote user changes nick; the viewer sees 303 then the new nick', async () => {
    await remote.send(xml('presence', { to: `${room()}/${nick()}2` }));
    const left = await gone(viewer, nick(), '303 at viewer');
    assert.ok(codes(left).includes('303'));
    assert.is(left.getChild('x', MUC_USER).getChild('item').attrs.nick, `${nick()}2`);
    await seen(viewer, `${nick()}2`, 'new nick at viewer');
    await joined(remote, `${nick()}2`, T, 'own new nick');
  });

  t('the remote user leaves; the viewer sees it', async () => {
    await remote.send(xml('presence', { to: `${room()}/${nick()}2`, type: 'unavailable' }));
    await gone(viewer, `${nick()}2`, 'leave at viewer');
    await remote.waitFor(
      (s) => s.is('presence') && from(`${nick()}2`)(s) && s.attrs.type === 'unavailable' && codes(s).includes('110'),
      T,
      'own leave',
    );
  });

  t('the owner kicks the remote user after a rejoin (307); the remote user and the viewer see it', async () => {
    remote.received.length = 0;
    await join(remote, `${nick()}3`);
    await seen(viewer, `${nick()}3`, 'rejoin at viewer');
    assert.is((await admin({ nick: `${nick()}3`, role: 'none' }, 'cool down')).attrs.type, 'result');
    const k = await gone(remote, `${nick()}3`, 'kick at remote');
    assert.ok(codes(k).includes('307'), k.toString());
    const kv = await gone(viewer, `${nick()}3`, 'kick at viewer');
    assert.ok(codes(kv).includes('307'), kv.toString());
  });

  t('the owner bans the remote account; it is told (301) and cannot rejoin (403 forbidden)', async () => {
    remote.received.length = 0;
    viewer.received.length = 0;
    await join(remote, `${nick()}4`);
    await seen(viewer, `${nick()}4`, 'rejoin at viewer');
    assert.is((await admin({ jid: env().remote.bare, affiliation: 'outcast' }, 'spam')).attrs.type, 'result');
    const b = await gone(remote, `${nick()}4`, 'ban at remote');
    assert.ok(codes(b).includes('301'), b.toString());
    await join(remote, `${nick()}5`);
    const e = await remote.waitFor(
      (s) => s.is('presence') && from(`${nick()}5`)(s) && s.attrs.type === 'error',
      T,
      'refused rejoin',
    );
    assert.ok(e.getChild('error')?.getChild('forbidden', 'urn:ietf:params:xml:ns:xmpp-stanzas'), e.toString());
    assert.not.ok(
      viewer.received.some((s) => s.is('presence') && from(`${nick()}5`)(s) && !s.attrs.type),
      'the viewer never saw the banned user come back',
    );
  });

  t('a direct message from our viewer reaches the remote user (our server dials out)', async () => {
    await remote.send(xml('presence'));
    await viewer.send(xml('message', { to: env().remote.bare, type: 'chat' }, xml('body', {}, 'direct hello')));
    const m = await remote.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'direct hello',
      T,
      'direct message',
    );
    assert.is(m.attrs.from, viewer.jid);
  });

  t('both directions of stream set-up happened over the expected transport, authenticated', async () => {
    const { host, remote: r, transport } = env();
    const st = host.server.server.s2s!.status();
    const out = st.outgoing.filter((o) => o.remote === r.domain && o.state === 'ready');
    assert.ok(out.length > 0, JSON.stringify(st.outgoing));
    assert.ok(
      out.every((o) => o.transport === transport && (transport === 'websocket' || o.secure)),
      `outgoing streams use ${transport}${transport === 'tcp' ? ' with TLS' : ''}: ${JSON.stringify(out)}`,
    );
    const inc = st.incoming.filter((i) => i.sasl === r.domain || i.verified.some((v) => v.startsWith(`${r.domain}|`)));
    assert.ok(inc.length > 0, JSON.stringify(st.incoming));
    assert.ok(
      inc.every((i) => i.transport === transport),
      JSON.stringify(inc),
    );
    assert.ok(inc.some((i) => i.routed > 0));
  });
}
