// What a client receives for a room's MAM query, byte for byte, on every path a result takes: WebSocket (results as
// three runs of bytes: the query's head, the archived message's shared id and <forwarded/>, a constant end), the
// WebSocket edge process (the same runs across its pipe), TCP (text), and a stream-management resend after the
// connection dropped. The expected text is what the server sent before results had a byte path (runs, JIDs, times
// and ids made neutral), less the result message's own id, which results no longer carry (as Prosody's): a queryid and a message id that need escaping, a moderated (retracted) message, and a
// reader who sees real JIDs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { anonymousRaw, jidOf, resumeRaw, type RawWs } from '../helpers/raw-ws.js';
import { anonymousTcp } from '../helpers/raw-tcp.js';
import { WebSocketTransport } from '../../src/xmpp/websocket.js';
import { EdgeTransport } from '../../src/edge/transport.js';

const ROOM = 'bytes@room.localhost';
/** The owner's nick, O&w<n"er'é, and the queryid, q&<"'>é 1, escaped as in an attribute. */
const NICK_ATTR = 'O&amp;w&lt;n&quot;er&apos;é';
const QUERYID_ATTR = 'q&amp;&lt;&quot;&apos;&gt;é 1';
const MAM = (id: string) =>
  `<iq xmlns="jabber:client" type="set" id="${id}" to="${ROOM}"><query xmlns="urn:xmpp:mam:2" queryid="${QUERYID_ATTR}"><set xmlns="http://jabber.org/protocol/rsm"><max>50</max></set></query></iq>`;

/** The result messages in `text` (frames joined, or a TCP stream), with the run's own JIDs, times and ids replaced. */
function neutral(text: string, reader: string, owner: string): string {
  const results = text.match(/<message [^>]*><result [\s\S]*?<\/result><\/message>/g) ?? [];
  const archiveIds = new Map<string, string>();
  const aid = (id: string) => {
    if (!archiveIds.has(id)) archiveIds.set(id, `S${archiveIds.size + 1}`);
    return archiveIds.get(id)!;
  };
  return results
    .map((r) =>
      r
        .split(reader)
        .join('READER')
        .split(owner)
        .join('OWNER')
        .split(owner.split('/')[0]!)
        .join('OWNER_BARE')
        .replace(/(<result [^>]* id=")([^"]+)"/, (_, a, id) => `${a}${aid(id)}"`)
        .replace(/(<stanza-id [^>]*id=")([^"]+)"/g, (_, a, id) => `${a}${aid(id)}"`)
        .replace(/(<(?:retract|moderate) [^>]*id=")([^"]+)"/g, (_, a, id) => `${a}${aid(id)}"`)
        .replace(/stamp="[^"]+"/g, 'stamp="T"')
        .replace(/(<occupant-id [^>]*id=")[^"]+"/g, '$1OCC"'),
    )
    .join('\n');
}

const msg = (body: string, id: string) =>
  `<message xmlns="jabber:client" type="groupchat" to="${ROOM}" id="${id}"><body>${body}</body></message>`;

/** A room with three messages (one then moderated away) by an owner, then the same query by three readers. */
async function scenario(srv: TestServer, tcpPort: number | undefined) {
  const raws: RawWs[] = [];
  try {
    const owner = await anonymousRaw(srv.wsUrl);
    raws.push(owner);
    const ownerJid = jidOf(owner);
    owner.send(
      `<presence xmlns="jabber:client" to="${ROOM}/${NICK_ATTR}"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
    );
    await owner.waitFor(/status code="110"/, 10_000);
    owner.send(msg('a &lt; b &amp; "c" \'d\' &gt; é 😀', 'm1&amp;&lt;&quot;&apos;&gt;é'));
    await owner.waitFor(/😀/);
    owner.send(msg('to be moderated', 'm2'));
    const second = await owner.waitFor(/to be moderated/);
    owner.send(msg('third', 'm3'));
    await owner.waitFor(/third<\/body>/);
    const sid = /<stanza-id [^>]*id="([^"]+)"/.exec(second)![1]!;
    owner.send(
      `<iq xmlns="jabber:client" type="set" id="mod1" to="${ROOM}"><moderate xmlns="urn:xmpp:message-moderate:1" id="${sid}"><retract xmlns="urn:xmpp:message-retract:1"/><reason>spam &amp; eggs</reason></moderate></iq>`,
    );
    await owner.waitFor(/id="mod1"/);

    // The owner sees real JIDs; a viewer does not.
    owner.send(MAM('o1'));
    await owner.waitFor(/<iq [^>]*id="o1"/);
    const viewer = await anonymousRaw(srv.wsUrl);
    raws.push(viewer);
    viewer.send(MAM('v1'));
    await viewer.waitFor(/<iq [^>]*id="v1"/);
    const out = {
      owner: neutral(owner.frames.join(''), ownerJid, ownerJid),
      viewer: neutral(viewer.frames.join(''), jidOf(viewer), ownerJid),
      tcp: '',
      resent: '',
    };

    if (tcpPort !== undefined) {
      const tcp = await anonymousTcp(tcpPort);
      try {
        tcp.write(MAM('t1'));
        await tcp.waitFor(/<iq [^>]*id=["']t1["']/);
        out.tcp = neutral(tcp.text(), tcp.jid, ownerJid);
      } finally {
        tcp.destroy();
      }
    }

    // Stream management: the results the client did not acknowledge are sent again on the resumed stream.
    const sm = await anonymousRaw(srv.wsUrl);
    raws.push(sm);
    const smJid = jidOf(sm);
    sm.send('<enable xmlns="urn:xmpp:sm:3" resume="true"/>');
    const previd = /id="([^"]+)"/.exec(await sm.waitFor(/<enabled /))![1]!;
    sm.send(MAM('s1'));
    await sm.waitFor(/<iq [^>]*id="s1"/);
    const first = neutral(sm.frames.join(''), smJid, ownerJid);
    sm.close();
    await sm.closed;
    const again = await resumeRaw(srv.wsUrl, previd, 0);
    raws.push(again);
    await again.waitFor(/<iq [^>]*id="s1"/, 10_000);
    out.resent = neutral(again.frames.join(''), smJid, ownerJid);
    assert.is(out.resent, first, 'the resent results are the results first sent');
    return out;
  } finally {
    for (const r of raws) r.close();
  }
}

const OWNER_VIEW = [
  `<message xmlns="jabber:client" to="READER" from="${ROOM}"><result xmlns="urn:xmpp:mam:2" queryid="${QUERYID_ATTR}" id="S1"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="T"/><message from="${ROOM}/${NICK_ATTR}" type="groupchat" id="m1&amp;&lt;&quot;&apos;&gt;é" xmlns="jabber:client"><body>a &lt; b &amp; "c" 'd' &gt; é 😀</body><occupant-id xmlns="urn:xmpp:occupant-id:0" id="OCC"/><stanza-id xmlns="urn:xmpp:sid:0" id="S1" by="${ROOM}"/><x xmlns="http://jabber.org/protocol/muc#user"><item jid="OWNER_BARE"/></x></message></forwarded></result></message>`,
  `<message xmlns="jabber:client" to="READER" from="${ROOM}"><result xmlns="urn:xmpp:mam:2" queryid="${QUERYID_ATTR}" id="S2"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="T"/><message from="${ROOM}/${NICK_ATTR}" type="groupchat" id="m2" xmlns="jabber:client"><moderated xmlns="urn:xmpp:message-moderate:0" by="${ROOM}/${NICK_ATTR}" stamp="T"><retracted xmlns="urn:xmpp:message-retract:0" stamp="T"/><reason>spam &amp; eggs</reason></moderated><retracted xmlns="urn:xmpp:message-retract:1" stamp="T"><moderated xmlns="urn:xmpp:message-moderate:1" by="${ROOM}/${NICK_ATTR}"><occupant-id xmlns="urn:xmpp:occupant-id:0" id="OCC"/></moderated><reason>spam &amp; eggs</reason></retracted><occupant-id xmlns="urn:xmpp:occupant-id:0" id="OCC"/><stanza-id xmlns="urn:xmpp:sid:0" id="S2" by="${ROOM}"/><x xmlns="http://jabber.org/protocol/muc#user"><item jid="OWNER_BARE"/></x></message></forwarded></result></message>`,
  `<message xmlns="jabber:client" to="READER" from="${ROOM}"><result xmlns="urn:xmpp:mam:2" queryid="${QUERYID_ATTR}" id="S3"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="T"/><message from="${ROOM}/${NICK_ATTR}" type="groupchat" id="m3" xmlns="jabber:client"><body>third</body><occupant-id xmlns="urn:xmpp:occupant-id:0" id="OCC"/><stanza-id xmlns="urn:xmpp:sid:0" id="S3" by="${ROOM}"/><x xmlns="http://jabber.org/protocol/muc#user"><item jid="OWNER_BARE"/></x></message></forwarded></result></message>`,
].join('\n');
const PUBLIC_VIEW = [
  `<message xmlns="jabber:client" to="READER" from="${ROOM}"><result xmlns="urn:xmpp:mam:2" queryid="${QUERYID_ATTR}" id="S1"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="T"/><message from="${ROOM}/${NICK_ATTR}" type="groupchat" id="m1&amp;&lt;&quot;&apos;&gt;é" xmlns="jabber:client"><body>a &lt; b &amp; "c" 'd' &gt; é 😀</body><occupant-id xmlns="urn:xmpp:occupant-id:0" id="OCC"/><stanza-id xmlns="urn:xmpp:sid:0" id="S1" by="${ROOM}"/></message></forwarded></result></message>`,
  `<message xmlns="jabber:client" to="READER" from="${ROOM}"><result xmlns="urn:xmpp:mam:2" queryid="${QUERYID_ATTR}" id="S2"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="T"/><message from="${ROOM}/${NICK_ATTR}" type="groupchat" id="m2" xmlns="jabber:client"><moderated xmlns="urn:xmpp:message-moderate:0" by="${ROOM}/${NICK_ATTR}" stamp="T"><retracted xmlns="urn:xmpp:message-retract:0" stamp="T"/><reason>spam &amp; eggs</reason></moderated><retracted xmlns="urn:xmpp:message-retract:1" stamp="T"><moderated xmlns="urn:xmpp:message-moderate:1" by="${ROOM}/${NICK_ATTR}"><occupant-id xmlns="urn:xmpp:occupant-id:0" id="OCC"/></moderated><reason>spam &amp; eggs</reason></retracted><occupant-id xmlns="urn:xmpp:occupant-id:0" id="OCC"/><stanza-id xmlns="urn:xmpp:sid:0" id="S2" by="${ROOM}"/></message></forwarded></result></message>`,
  `<message xmlns="jabber:client" to="READER" from="${ROOM}"><result xmlns="urn:xmpp:mam:2" queryid="${QUERYID_ATTR}" id="S3"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="T"/><message from="${ROOM}/${NICK_ATTR}" type="groupchat" id="m3" xmlns="jabber:client"><body>third</body><occupant-id xmlns="urn:xmpp:occupant-id:0" id="OCC"/><stanza-id xmlns="urn:xmpp:sid:0" id="S3" by="${ROOM}"/></message></forwarded></result></message>`,
].join('\n');

/** Counts the result messages `cls`'s sendSplice writes (the byte path), until the returned function restores it. */
function countSpliced(cls: { prototype: unknown }): { count: () => number; restore: () => void } {
  const proto = cls.prototype as { sendSplice: (...a: unknown[]) => unknown };
  const original = proto.sendSplice;
  let n = 0;
  proto.sendSplice = function (this: unknown, ...a: unknown[]) {
    if (String(a[0]).includes('<result ')) n++;
    return original.apply(this, a);
  };
  return { count: () => n, restore: () => (proto.sendSplice = original) };
}

test('MAM results reach WebSocket (as bytes), TCP (as text) and a resumed stream as the same text as before', async () => {
  const srv = await startTestServer({
    tcp: { enabled: true, port: 0 },
    streamManagement: { resumeTimeoutSeconds: 30 },
  });
  const spliced = countSpliced(WebSocketTransport);
  try {
    const out = await scenario(srv, srv.server.tcpAddresses()!.starttls[0]!.port);
    assert.is(out.owner, OWNER_VIEW, 'a reader who sees real JIDs');
    assert.is(out.viewer, PUBLIC_VIEW, 'a viewer');
    assert.is(out.tcp, PUBLIC_VIEW, 'a viewer over TCP');
    assert.is(out.resent, PUBLIC_VIEW, 'resent after resumption');
    // Owner, viewer, the stream-management reader and its resend: three results each, all through the byte path.
    assert.is(spliced.count(), 12, 'results written as bytes');
  } finally {
    spliced.restore();
    await srv.stop();
  }
});

test('the same through the WebSocket edge process', async () => {
  const srv = await startTestServer({
    websocket: { edge: 'process' },
    streamManagement: { resumeTimeoutSeconds: 30 },
  });
  const spliced = countSpliced(EdgeTransport);
  try {
    const out = await scenario(srv, undefined);
    assert.is(out.owner, OWNER_VIEW, 'a reader who sees real JIDs');
    assert.is(out.viewer, PUBLIC_VIEW, 'a viewer');
    assert.is(out.resent, PUBLIC_VIEW, 'resent after resumption');
    assert.is(spliced.count(), 12, 'results written as bytes');
  } finally {
    spliced.restore();
    await srv.stop();
  }
});

test.run();
