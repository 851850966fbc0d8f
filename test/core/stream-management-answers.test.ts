// XEP-0198 resumption of answers made from a shared stanza (an occupant's vCard): stream management keeps each as
// the shared stanza and a copy of the request's id, not as text, so a resumed stream must get every unacknowledged
// answer back with its own id (escaped as first sent, non-ASCII included), in order among the other stanzas, after
// acks in steps that make the server move what it keeps to the front of its queue.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { anonymousRaw, resumeRaw, jidOf, type RawWs } from '../helpers/raw-ws.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';

const ROOM = 'answers@room.localhost';
/** In-process WebSocket framing, and the edge process's (answers then cross its pipe with their own heads). */
const servers: Record<string, { srv: TestServer; streamer: TestClient }> = {};
const raws: RawWs[] = [];

test.before(async () => {
  for (const [name, edge] of [
    ['in-process', 'off'],
    ['edge', 'process'],
  ] as const) {
    const srv = await startTestServer({ streamManagement: { resumeTimeoutSeconds: 30 }, websocket: { edge } });
    const streamer = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
    await streamer.send(
      xml('presence', { to: `${ROOM}/streamer` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
    );
    await streamer.waitFor((s) => s.is('presence') && s.attrs.from === `${ROOM}/streamer`);
    servers[name] = { srv, streamer };
  }
});
test.after(async () => {
  for (const r of raws) r.close();
  for (const { srv, streamer } of Object.values(servers)) {
    await streamer.stop();
    await srv.stop();
  }
});

/** The stanzas among frames (not the stream-management nonzas). */
const stanzas = (frames: string[]): string[] => frames.filter((f) => /^<(iq|message|presence)[\s>]/.test(f));

/** An id with characters escaped in an attribute, some not ASCII, and long enough to be a view of its frame. */
const idAttr = (n: number): string => `vc-${n}-é&amp;&lt;&quot;&apos;😀`;

async function askVcards(c: RawWs, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++)
    c.send(
      `<iq xmlns='jabber:client' type='get' to='${ROOM}/streamer' id='${idAttr(n)}'><vCard xmlns='vcard-temp'/></iq>`,
    );
  await c.waitFor(new RegExp(`id="vc-${to}-`));
}

async function sendBodies(streamer: TestClient, to: string, from: number, last: number): Promise<void> {
  for (let i = from; i <= last; i++)
    await streamer.send(xml('message', { to, type: 'chat' }, xml('body', {}, `note ${i}`)));
}

for (const name of ['in-process', 'edge'])
  test(`${name}: a resumed stream gets the unacknowledged vCard answers again with their own ids, in order`, async () => {
    const { srv, streamer } = servers[name]!;
    const c = await anonymousRaw(srv.wsUrl);
    raws.push(c);
    const jid = jidOf(c);
    c.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    const previd = /id=["']([^"']+)["']/.exec(await c.waitFor(/<enabled /))![1]!;
    const seen = c.frames.length;
    c.send(
      `<presence xmlns='jabber:client' to='${ROOM}/viewer'><x xmlns='http://jabber.org/protocol/muc'/></presence>`,
    );
    await c.waitFor(/<subject/);
    await askVcards(c, 1, 50);
    await sendBodies(streamer, jid, 1, 30);
    await c.waitFor(/note 30</);
    await askVcards(c, 51, 100);
    await sendBodies(streamer, jid, 31, 40);
    await c.waitFor(/note 40</);
    const sent = stanzas(c.frames.slice(seen));
    const total = sent.length;
    assert.ok(total >= 140, `${total} stanzas sent`);
    // The answers carry the id escaped again, as the client wrote it.
    assert.ok(
      sent.some((s) => s.startsWith(`<iq xmlns="jabber:client" id="${idAttr(77)}" `)),
      sent.filter((s) => s.includes('vc-77')).join('\n'),
    );

    // Acks of 40, then of most of what is kept (the rest moves to the front, the ids' bytes with it); then answers
    // whose ids are written where the moved ones were; then an ack of all but the last 85 (15 + 60 answers, 10 messages).
    for (const h of [40, total - 60]) c.send(`<a xmlns='urn:xmpp:sm:3' h='${h}'/>`);
    await askVcards(c, 101, 160);
    const last = total - 25;
    c.send(`<a xmlns='urn:xmpp:sm:3' h='${last}'/>`);
    c.send("<r xmlns='urn:xmpp:sm:3'/>");
    await c.waitFor(/^<a xmlns=["']urn:xmpp:sm:3["'] h=/);
    const all = stanzas(c.frames.slice(seen));
    assert.is(all.length, total + 60);
    c.close();
    await c.closed;

    const again = await resumeRaw(srv.wsUrl, previd, last);
    raws.push(again);
    await again.waitFor(/id="vc-160-/);
    const resent = stanzas(again.frames);
    assert.equal(resent, all.slice(last), 'the resent stanzas are the unacknowledged ones as first sent');
    const ids = resent.map((s) => /^<iq [^>]*id="vc-(\d+)-/.exec(s)?.[1]).filter((x) => x !== undefined);
    assert.equal(ids, [
      ...Array.from({ length: 15 }, (_, i) => String(86 + i)),
      ...Array.from({ length: 60 }, (_, i) => String(101 + i)),
    ]);
  });

test.run();
