// XEP-0198 acknowledgements from clients that count differently: an `h` that runs behind the last one (as
// @xmpp/client 0.14 sends when its count restarts after <enabled/>) keeps the stream open; an `h` above what was
// sent ends it with undefined-condition and <handled-count-too-high/> saying both numbers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { anonymousRaw, resumeRaw, type RawWs } from '../helpers/raw-ws.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';

let srv: TestServer;
let sender: TestClient;
const raws: RawWs[] = [];

test.before(async () => {
  srv = await startTestServer({});
  sender = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
});
test.after(async () => {
  for (const r of raws) r.close();
  await sender.stop();
  await srv.stop();
});

/** A raw anonymous session with stream management enabled; returns it with its full JID. */
async function smSession(): Promise<{ c: RawWs; jid: string }> {
  const c = await anonymousRaw(srv.wsUrl);
  raws.push(c);
  const bound = await c.waitFor(/<jid>/);
  const jid = /<jid>([^<]+)<\/jid>/.exec(bound)![1];
  c.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
  await c.waitFor(/<enabled /);
  return { c, jid };
}

async function sendBodies(to: string, prefix: string, n: number): Promise<void> {
  for (let i = 1; i <= n; i++)
    await sender.send(xml('message', { to, type: 'chat' }, xml('body', {}, `${prefix} ${i}`)));
}

test('an h behind the previous one is ignored: the stream stays open and keeps delivering', async () => {
  const { c, jid } = await smSession();
  await sendBodies(jid, 'first', 3);
  await c.waitFor(/first 3/);
  c.send("<a xmlns='urn:xmpp:sm:3' h='3'/>");
  c.send("<a xmlns='urn:xmpp:sm:3' h='1'/>"); // the client's count restarted
  await sendBodies(jid, 'second', 2);
  await c.waitFor(/second 2/);
  c.send("<r xmlns='urn:xmpp:sm:3'/>");
  await c.waitFor(/<a xmlns=["']urn:xmpp:sm:3["'] h=/);
  assert.not.ok(
    c.frames.some((f) => f.includes('stream:error') || f.includes('<close')),
    c.frames.join('\n'),
  );
  // Acknowledging everything afterwards is still accepted: 5 stanzas went out.
  c.send("<a xmlns='urn:xmpp:sm:3' h='5'/>");
  await sendBodies(jid, 'third', 1);
  await c.waitFor(/third 1/);
  assert.not.ok(
    c.frames.some((f) => f.includes('stream:error')),
    'still open after a full ack',
  );
});

test('an h above what was sent ends the stream with handled-count-too-high naming both counts', async () => {
  const { c, jid } = await smSession();
  await sendBodies(jid, 'only', 2);
  await c.waitFor(/only 2/);
  c.send("<a xmlns='urn:xmpp:sm:3' h='7'/>");
  const err = await c.waitFor(/stream:error/);
  assert.match(err, /<undefined-condition xmlns=["']urn:ietf:params:xml:ns:xmpp-streams["']/);
  assert.match(err, /<handled-count-too-high xmlns=["']urn:xmpp:sm:3["'] h=["']7["'] send-count=["']2["']/);
  await c.closed;
});

test('an h that is not a number ends the stream too', async () => {
  const { c } = await smSession();
  c.send("<a xmlns='urn:xmpp:sm:3' h='lots'/>");
  const err = await c.waitFor(/stream:error/);
  assert.match(err, /undefined-condition/);
  await c.closed;
});

test('after acks in steps, a resumed stream gets exactly what was not acknowledged, in order', async () => {
  const { c, jid } = await smSession();
  await sendBodies(jid, 'step', 150);
  await c.waitFor(/step 150</);
  // Acks of 40, then 100 (most of what is kept is acknowledged: the rest moves to the front), then 130.
  for (const h of [40, 100, 130]) c.send(`<a xmlns='urn:xmpp:sm:3' h='${h}'/>`);
  c.send("<r xmlns='urn:xmpp:sm:3'/>");
  await c.waitFor(/<a xmlns=["']urn:xmpp:sm:3["'] h=/); // the three <a/> were read before this answer
  const previd = /id=["']([^"']+)["']/.exec(c.frames.find((f) => f.startsWith('<enabled '))!)![1]!;
  c.close();
  await c.closed;
  const again = await resumeRaw(srv.wsUrl, previd, 130);
  raws.push(again);
  await again.waitFor(/step 150</);
  const resent = again.frames.filter((f) => f.includes('<body>step ')).map((f) => /step (\d+)</.exec(f)![1]);
  assert.equal(
    resent,
    Array.from({ length: 20 }, (_, i) => String(131 + i)),
  );
});

test.run();
