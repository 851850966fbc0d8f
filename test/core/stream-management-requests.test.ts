// When the server asks a client for XEP-0198 acks: a prepared stanza (a room's message, shared by every recipient;
// a MAM result made from the archive's shared bytes) weighs little, so a viewer of a busy room is asked once per 100
// of them, not once per 20 as before; an answer serialized for the session alone weighs five times more; and no
// second request goes out while one waits for its answer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { anonymousRaw, type RawWs } from '../helpers/raw-ws.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { acceptInstantRoom, enterRoom } from '../helpers/muc-join.js';
import { until } from '../helpers/until.js';

const ROOM = 'acks@room.localhost';
let srv: TestServer;
let talker: TestClient;
const raws: RawWs[] = [];

test.before(async () => {
  srv = await startTestServer({});
  talker = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
  await acceptInstantRoom(talker, ROOM, await enterRoom(talker, `${ROOM}/talker`));
});
test.after(async () => {
  for (const r of raws) r.close();
  await talker.stop();
  await srv.stop();
});

const isRequest = (f: string): boolean => /^<r xmlns=["']urn:xmpp:sm:3["']\/>$/.test(f);
const isStanza = (f: string): boolean => /^<(message|presence|iq)[\s>/]/.test(f);

/** A raw anonymous viewer with stream management enabled; `received()` counts its stanzas since <enabled/>. */
async function smViewer(): Promise<{ c: RawWs; requests: () => number; received: () => number }> {
  const c = await anonymousRaw(srv.wsUrl);
  raws.push(c);
  c.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
  await c.waitFor(/<enabled /);
  const from = c.frames.findIndex((f) => f.startsWith('<enabled '));
  return {
    c,
    requests: () => c.frames.slice(from).filter(isRequest).length,
    received: () => c.frames.slice(from).filter(isStanza).length,
  };
}

/** Waits (up to 5 s) for `cond`, which the frames already received may not meet yet. */
async function talk(prefix: string, n: number): Promise<void> {
  for (let i = 1; i <= n; i++)
    await talker.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, `${prefix} ${i}`)));
}

test("a room's messages are acknowledged every 100, one request at a time", async () => {
  const v = await smViewer();
  v.c.send(
    `<presence to='${ROOM}/viewer'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`,
  );
  await v.c.waitFor(/<subject/);
  await talk('first', 60);
  await v.c.waitFor(/first 60</);
  assert.is(v.requests(), 0, 'no ack request for the join and 60 room messages (the old rule asked every 20)');

  await talk('second', 60);
  await v.c.waitFor(/second 60</);
  await v.c.waitFor(/^<r /);
  assert.is(v.requests(), 1, 'one request once past 100');

  // Unanswered, it is not repeated however much follows.
  await talk('third', 120);
  await v.c.waitFor(/third 120</);
  assert.is(v.requests(), 1, 'still one request while it waits for its answer');

  // Answered, the next stanza brings the next request. The server's answer to an <r/> of ours, sent after the <a/>
  // on the same stream, says the <a/> was handled before the next message is sent.
  v.c.send(`<a xmlns='urn:xmpp:sm:3' h='${v.received()}'/>`);
  v.c.send("<r xmlns='urn:xmpp:sm:3'/>");
  await v.c.waitFor(/^<a /);
  await talk('fourth', 1);
  await v.c.waitFor(/fourth 1</);
  await until('a second request', () => v.requests() === 2, 5000, 10);
  assert.is(v.requests(), 2);
  assert.not.ok(
    v.c.frames.some((f) => f.includes('stream:error')),
    'the stream stays open',
  );
});

test('answers made for the session weigh five times a room message: 20 pings bring a request', async () => {
  const v = await smViewer();
  for (let i = 1; i <= 19; i++) {
    v.c.send(`<iq type='get' id='p${i}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await v.c.waitFor(new RegExp(`id=["']p${i}["']`));
  }
  assert.is(v.requests(), 0, 'none after 19 answers');
  v.c.send(`<iq type='get' id='p20'><ping xmlns='urn:xmpp:ping'/></iq>`);
  await v.c.waitFor(/id=["']p20["']/);
  await v.c.waitFor(/^<r /);
  assert.is(v.requests(), 1);
});

test('a MAM page weighs as room messages: 60 results bring no request, the next 60 one', async () => {
  const v = await smViewer();
  v.c.send(
    `<presence to='${ROOM}/reader'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`,
  );
  await v.c.waitFor(/<subject/);
  const page = async (q: string): Promise<void> => {
    v.c.send(
      `<iq type='set' id='${q}' to='${ROOM}'><query xmlns='urn:xmpp:mam:2' queryid='${q}'>` +
        `<set xmlns='http://jabber.org/protocol/rsm'><max>60</max><before/></set></query></iq>`,
    );
    await v.c.waitFor(new RegExp(`<iq [^>]*id=["']${q}["']`));
  };
  await page('page1');
  const results = v.c.frames.filter((f) => f.includes(`queryid="page1"`)).length;
  assert.is(results, 60, 'a full page of results (the room has archived more than 60 messages by now)');
  assert.is(v.requests(), 0, 'no request after the join and 60 results (at 5 each they asked after 20)');
  await page('page2');
  await until('a request once past 100', () => v.requests() === 1, 5000, 10);
  assert.is(v.requests(), 1);
});

test.run();
