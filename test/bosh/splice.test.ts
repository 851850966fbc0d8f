// A room's stanzas reach a BOSH viewer as the prepared stanza's byte runs (its head, the viewer's address, its tail)
// copied into the response beside serialized text (answers, the viewer's own stanzas): the response must still be
// one well-formed body, byte for byte what the sender wrote, with a Content-Length that counts bytes, whatever
// characters the nick and the text hold.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { xml } from '../helpers/xmpp-client.js';
import { enterRoom, payloads, post, type RawResponse } from './raw.js';
import { closeRoomWithBoshViewer, openRoomWithBoshViewer, type RoomWithBoshViewer } from './room-fixture.js';

const ROOM = 'bosh-splice@room.localhost';
const NICK = `Zoë & 'co' <🎉>`;

type Ctx = RoomWithBoshViewer;
const t = suite<Ctx>('BOSH responses with prepared stanzas');

t.before((ctx) => openRoomWithBoshViewer(ctx, ROOM, NICK));
t.after(closeRoomWithBoshViewer);

/** Every payload of the viewer's responses until `done` holds for one of them (at most ten responses). */
async function responsesUntil(ctx: Ctx, done: (r: RawResponse) => boolean): Promise<RawResponse[]> {
  const seen: RawResponse[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await ctx.viewer.send();
    seen.push(r);
    if (done(r)) break;
  }
  return seen;
}

t(
  'the join shows the sender under its nick, and its message arrives intact with an exact Content-Length',
  async (ctx) => {
    await enterRoom(ctx.viewer, `${ROOM}/viewer`);
    const body = `héllo <wörld> & "all" 🎉 — ${'x'.repeat(300)}`;
    await ctx.sender.send(xml('message', { to: ROOM, type: 'groupchat', id: 'm-ü' }, xml('body', {}, body)));
    const seen = await responsesUntil(ctx, (r) =>
      payloads(r).some((e) => e.name === 'message' && e.getChildText('body') === body),
    );
    const carrying = seen.find((r) => payloads(r).some((e) => e.name === 'message'));
    assert.ok(carrying, `no message among ${seen.length} responses`);
    const msg = payloads(carrying).find((e) => e.name === 'message')!;
    assert.is(msg.getChildText('body'), body);
    assert.is(msg.attrs.from, `${ROOM}/${NICK}`);
    assert.is(msg.attrs.to, ctx.viewer.jid);
    assert.is(msg.attrs.id, 'm-ü');
    assert.is(Number(carrying.headers.get('content-length')), Buffer.byteLength(carrying.text));
  },
);

t('a burst of messages and an answer share responses, each well-formed and in order', async (ctx) => {
  const texts = Array.from({ length: 12 }, (_, i) => `ünïcode ${i} 🎈 ${'ÿ'.repeat(i * 20)}`);
  for (const text of texts)
    await ctx.sender.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, text)));
  // An answer of the server's own (serialized text) among the room's messages (bytes): in this response or the next.
  const first = await ctx.viewer.send(
    `<iq xmlns='jabber:client' type='get' id='ping-ü' to='anon.localhost'><ping xmlns='urn:xmpp:ping'/></iq>`,
  );
  const got: string[] = [];
  let pong = false;
  const take = (r: RawResponse) => {
    assert.is(Number(r.headers.get('content-length')), Buffer.byteLength(r.text));
    for (const e of payloads(r)) {
      if (e.name === 'iq' && e.attrs.id === 'ping-ü') pong = true;
      if (e.name === 'message' && e.attrs.from === `${ROOM}/${NICK}`) got.push(e.getChildText('body') ?? '');
    }
  };
  take(first);
  for (let i = 0; i < 10 && (got.length < texts.length || !pong); i++) take(await ctx.viewer.send());
  assert.ok(pong, 'the ping was answered');
  assert.equal(got, texts);
});

t(
  'a response with room messages and a direct one, asked for again with its rid, comes back byte for byte',
  async (ctx) => {
    // A repeat is made again from what the response was made of (the room messages' shared byte runs, the direct
    // message's text), not from a copy of its bytes: it must be the same bytes.
    const texts = ['ré-sent 🎈 one', `two <&> ${'ÿ'.repeat(50)}`, 'three'];
    await ctx.sender.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, texts[0])));
    await ctx.sender.send(xml('message', { to: ctx.viewer.jid, type: 'chat' }, xml('body', {}, 'direct ✉')));
    for (const text of texts.slice(1))
      await ctx.sender.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, text)));
    await new Promise((r) => setTimeout(r, 200)); // they wait on the server for the viewer's next request
    const request = ctx.viewer.body();
    const first = await post(ctx.viewer.url, request);
    const bodies = payloads(first)
      .filter((e) => e.name === 'message' && e.attrs.from === `${ROOM}/${NICK}`)
      .map((e) => e.getChildText('body'));
    assert.equal(bodies, texts, first.text);
    assert.ok(
      payloads(first).some((e) => e.name === 'message' && e.getChildText('body') === 'direct ✉'),
      first.text,
    );
    const again = await post(ctx.viewer.url, request);
    assert.is(again.text, first.text, 'byte-identical retransmission');
    assert.is(again.headers.get('content-length'), first.headers.get('content-length'));
  },
);

t.run();
