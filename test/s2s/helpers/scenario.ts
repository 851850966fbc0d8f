// The interop scenario every peer server goes through: a user on the peer (driven by @xmpp/client over the peer's
// own c2s port) and an anonymous WebSocket viewer on our server meet in a room at room.<our domain>.
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectClient, xml, type Stanza, type TestClient } from '../../helpers/xmpp-client.js';
import type { S2sTestServer } from './ours.js';
import type { Peer } from './peers.js';

const MUC = 'http://jabber.org/protocol/muc';
const MUC_USER = 'http://jabber.org/protocol/muc#user';
const T = 15000; // S2S set-up includes DNS, TLS and a dialback round trip each way

export interface InteropEnv {
  ours: S2sTestServer;
  peer: Peer;
}

const codes = (s: Stanza) => (s.getChild('x', MUC_USER)?.getChildren('status') ?? []).map((c: Stanza) => c.attrs.code);

export function interopScenario(t: Test, env: () => InteropEnv): void {
  let remote: TestClient;
  let viewer: TestClient;
  const room = () => `live@room.${env().ours.domain}`;
  const isFromRoom = (nick: string) => (s: Stanza) => s.attrs.from === `${room()}/${nick}`;

  t.after(async () => {
    await remote?.stop();
    await viewer?.stop();
  });

  t('a local viewer opens the room and talks before the remote user arrives (history)', async () => {
    const { ours } = env();
    viewer = await connectClient({ service: ours.wsUrl, domain: `anon.${ours.domain}` });
    await viewer.send(xml('presence', { to: `${room()}/viewer` }, xml('x', { xmlns: MUC })));
    const self = await viewer.waitFor(
      (s) => s.is('presence') && isFromRoom('viewer')(s) && codes(s).includes('110'),
      5000,
      'viewer self-presence',
    );
    if (codes(self).includes('201')) {
      // A fresh room: accept the default configuration.
      await viewer.iq(
        xml(
          'iq',
          { type: 'set', to: room() },
          xml('query', { xmlns: `${MUC}#owner` }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' })),
        ),
      );
    }
    await viewer.send(xml('message', { to: room(), type: 'groupchat' }, xml('body', {}, 'said before you came')));
    await viewer.waitFor((s) => s.is('message') && s.getChildText('body') === 'said before you came', 5000, 'own echo');
  });

  t('a user on the peer logs in there and joins our room over S2S; both see each other', async () => {
    const { peer } = env();
    await peer.register('alice', 'alice-pass-1');
    remote = await connectClient({
      service: `xmpp://127.0.0.1:${peer.c2sPort}`,
      domain: peer.domain,
      username: 'alice',
      password: 'alice-pass-1',
    });
    assert.match(remote.jid, new RegExp(`^alice@${peer.domain.replace(/\./g, '\\.')}/`));
    await remote.send(
      xml('presence', { to: `${room()}/alice` }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '10' }))),
    );
    const self = await remote.waitFor(
      (s) => s.is('presence') && isFromRoom('alice')(s) && codes(s).includes('110'),
      T,
      'remote self-presence',
    );
    assert.is(self.attrs.type, undefined);
    await remote.waitFor(
      (s) => s.is('presence') && isFromRoom('viewer')(s) && !s.attrs.type,
      T,
      'viewer presence at the remote user',
    );
    await viewer.waitFor(
      (s) => s.is('presence') && isFromRoom('alice')(s) && !s.attrs.type,
      T,
      'remote presence at the viewer',
    );
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
    await remote.send(xml('message', { to: room(), type: 'groupchat', id: 'g1' }, xml('body', {}, 'hi from the peer')));
    const atViewer = await viewer.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'hi from the peer',
      T,
      'remote groupchat at viewer',
    );
    assert.is(atViewer.attrs.from, `${room()}/alice`);
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
    assert.is(p1.attrs.from, `${room()}/alice`);
    await viewer.send(
      xml(
        'message',
        { to: `${room()}/alice`, type: 'chat' },
        xml('body', {}, 'psst alice'),
        xml('x', { xmlns: MUC_USER }),
      ),
    );
    const p2 = await remote.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'psst alice',
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
    await remote.send(xml('presence', { to: `${room()}/alice2` }));
    const gone = await viewer.waitFor(
      (s) => s.is('presence') && isFromRoom('alice')(s) && s.attrs.type === 'unavailable',
      T,
      '303 at viewer',
    );
    assert.ok(codes(gone).includes('303'));
    assert.is(gone.getChild('x', MUC_USER).getChild('item').attrs.nick, 'alice2');
    await viewer.waitFor((s) => s.is('presence') && isFromRoom('alice2')(s) && !s.attrs.type, T, 'new nick at viewer');
    await remote.waitFor(
      (s) => s.is('presence') && isFromRoom('alice2')(s) && codes(s).includes('110'),
      T,
      'own new nick',
    );
  });

  t('the remote user leaves; the viewer sees it', async () => {
    await remote.send(xml('presence', { to: `${room()}/alice2`, type: 'unavailable' }));
    await viewer.waitFor(
      (s) => s.is('presence') && isFromRoom('alice2')(s) && s.attrs.type === 'unavailable',
      T,
      'leave at viewer',
    );
    await remote.waitFor(
      (s) => s.is('presence') && isFromRoom('alice2')(s) && s.attrs.type === 'unavailable' && codes(s).includes('110'),
      T,
      'own leave',
    );
  });

  t('the owner kicks the remote user after a rejoin; the remote user is told (307)', async () => {
    remote.received.length = 0;
    await remote.send(
      xml('presence', { to: `${room()}/alice3` }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '0' }))),
    );
    await viewer.waitFor((s) => s.is('presence') && isFromRoom('alice3')(s) && !s.attrs.type, T, 'rejoin at viewer');
    const r = await viewer.iq(
      xml(
        'iq',
        { type: 'set', to: room() },
        xml(
          'query',
          { xmlns: `${MUC}#admin` },
          xml('item', { nick: 'alice3', role: 'none' }, xml('reason', {}, 'bye')),
        ),
      ),
      T,
    );
    assert.is(r.attrs.type, 'result');
    const k = await remote.waitFor(
      (s) => s.is('presence') && isFromRoom('alice3')(s) && s.attrs.type === 'unavailable',
      T,
      'kick at remote',
    );
    assert.ok(codes(k).includes('307'), k.toString());
  });

  t('the owner bans the remote account; it is told (301) and cannot rejoin (403 forbidden)', async () => {
    const { peer } = env();
    remote.received.length = 0;
    await remote.send(
      xml('presence', { to: `${room()}/alice4` }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '0' }))),
    );
    await viewer.waitFor((s) => s.is('presence') && isFromRoom('alice4')(s) && !s.attrs.type, T, 'rejoin at viewer');
    const r = await viewer.iq(
      xml(
        'iq',
        { type: 'set', to: room() },
        xml(
          'query',
          { xmlns: `${MUC}#admin` },
          xml('item', { jid: `alice@${peer.domain}`, affiliation: 'outcast' }, xml('reason', {}, 'spam')),
        ),
      ),
      T,
    );
    assert.is(r.attrs.type, 'result');
    const b = await remote.waitFor(
      (s) => s.is('presence') && isFromRoom('alice4')(s) && s.attrs.type === 'unavailable',
      T,
      'ban at remote',
    );
    assert.ok(codes(b).includes('301'), b.toString());
    await remote.send(xml('presence', { to: `${room()}/alice5` }, xml('x', { xmlns: MUC })));
    const e = await remote.waitFor(
      (s) => s.is('presence') && isFromRoom('alice5')(s) && s.attrs.type === 'error',
      T,
      'refused rejoin',
    );
    assert.ok(e.getChild('error')?.getChild('forbidden', 'urn:ietf:params:xml:ns:xmpp-stanzas'), e.toString());
    assert.not.ok(
      viewer.received.some((s) => s.is('presence') && isFromRoom('alice5')(s) && !s.attrs.type),
      'the viewer never saw the banned user come back',
    );
  });

  t('a direct message from our viewer reaches the remote user (our server dials out)', async () => {
    const { peer } = env();
    await remote.send(xml('presence'));
    await viewer.send(
      xml('message', { to: `alice@${peer.domain}`, type: 'chat', id: 'dm1' }, xml('body', {}, 'direct hello')),
    );
    const m = await remote.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'direct hello',
      T,
      'direct message',
    );
    assert.is(m.attrs.from, viewer.jid);
  });

  t('both directions of stream set-up happened, authenticated', async () => {
    const { ours, peer } = env();
    const st = ours.server.s2s!.status();
    const out = st.outgoing.filter((o) => o.remote === peer.domain && o.state === 'ready');
    assert.ok(out.length > 0, JSON.stringify(st.outgoing));
    assert.ok(
      out.every((o) => o.secure),
      'outgoing streams use TLS',
    );
    const inc = st.incoming.filter(
      (i) => i.sasl === peer.domain || i.verified.some((v) => v.startsWith(`${peer.domain}|`)),
    );
    assert.ok(inc.length > 0, JSON.stringify(st.incoming));
    assert.ok(inc.some((i) => i.routed > 0));
  });
}
