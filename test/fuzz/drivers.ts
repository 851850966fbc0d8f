// One fuzz target per transport: a client at the wanted stage of its stream that sends exact bytes and reports
// what the server did: answered a ping afterwards (alive), or sent a stream error (or BOSH terminate) and closed.
import type { Socket } from 'node:net';
import { anonymousRaw, rawWs, type RawWs } from '../helpers/raw-ws.js';
import { anonymousTcp, rawTcp, streamHeader, type RawTcp } from '../helpers/raw-tcp.js';
import { RawBosh } from '../bosh/raw.js';

export type Transport = 'ws' | 'tcp' | 'bosh';
export type Stage = 'raw' | 'header' | 'login';
export type Outcome =
  { kind: 'alive' } | { kind: 'error'; condition: string; closed: boolean } | { kind: 'hang'; seen: string };

export interface Target {
  /** Sends the input (PEER, SID and RID placeholders already filled in) and reports the outcome. */
  run(input: Buffer): Promise<Outcome>;
  dispose(): void;
}

const STREAM_COND = /<stream:error[^>]*>\s*<([a-z-]+) xmlns="urn:ietf:params:xml:ns:xmpp-streams"/;
let pings = 0;

/** A masked RFC 6455 text frame with exactly these payload bytes (ws refuses to send invalid UTF-8 itself). */
function textFrame(payload: Buffer): Buffer {
  const mask = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0x81, 0x80 | len])
      : len < 65536
        ? Buffer.from([0x81, 0x80 | 126, len >> 8, len & 255])
        : Buffer.concat([
            Buffer.from([0x81, 0x80 | 127, 0, 0, 0, 0]),
            Buffer.from([len >>> 24, (len >> 16) & 255, (len >> 8) & 255, len & 255]),
          ]);
  const body = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) body[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

const pingXml = (id: string) => `<iq xmlns='jabber:client' type='get' id='${id}'><ping xmlns='urn:xmpp:ping'/></iq>`;

export async function wsTarget(url: string, stage: Stage): Promise<Target> {
  const c: RawWs = stage === 'login' ? await anonymousRaw(url) : await rawWs(url);
  if (stage === 'header') {
    c.send("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='anon.localhost' version='1.0'/>");
    await c.waitFor(/<\/stream:features>/);
  }
  const sock = (c.ws as unknown as { _socket: Socket })._socket;
  return {
    async run(input) {
      sock.write(textFrame(input));
      const id = `alive-${++pings}`;
      if (stage === 'login') sock.write(textFrame(Buffer.from(pingXml(id))));
      const answer = new RegExp(`<stream:error|id="${id}"`);
      const first = await c.waitFor(answer, 15_000).catch(() => null);
      if (!first) return { kind: 'hang', seen: c.frames.join(' ').slice(-400) };
      const err = c.frames.join('').match(STREAM_COND);
      if (!err) return { kind: 'alive' };
      const closed = await Promise.race([
        c
          .waitFor(/<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/, 10_000)
          .then(() => c.closed)
          .then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 12_000).unref()),
      ]).catch(() => false);
      return { kind: 'error', condition: err[1], closed };
    },
    dispose: () => c.close(),
  };
}

export async function tcpTarget(port: number, stage: Stage, maxStanzaSize: number): Promise<Target> {
  let c: RawTcp;
  if (stage === 'login') c = await anonymousTcp(port);
  else {
    c = await rawTcp(port);
    if (stage === 'header') {
      c.write(streamHeader('anon.localhost'));
      await c.waitFor(/<\/stream:features>/);
    }
  }
  const outcome = async (): Promise<Outcome> => {
    await c.closed;
    const err = c.text().match(STREAM_COND);
    if (!err) return { kind: 'hang', seen: `closed without a stream error: ${c.text().slice(-300)}` };
    return { kind: 'error', condition: err[1], closed: /<\/stream:stream>$/.test(c.text()) };
  };
  return {
    async run(input) {
      c.write(input);
      if (stage !== 'login') {
        const got = await c.waitFor(/<stream:error/, 15_000).catch(() => null);
        if (!got) return { kind: 'hang', seen: c.text().slice(-300) };
        return Promise.race([
          outcome(),
          new Promise<Outcome>((r) =>
            setTimeout(() => r({ kind: 'hang', seen: 'not closed after the stream error' }), 12_000).unref(),
          ),
        ]);
      }
      const id = `alive-${++pings}`;
      c.write(pingXml(id));
      const first = await c.waitFor(new RegExp(`<stream:error|id="${id}"`), 1500).catch(() => null);
      if (first && !/<stream:error/.test(c.text())) return { kind: 'alive' };
      if (!first) {
        // Still inside an unfinished element: more bytes than a stanza may hold must end the stream.
        c.write('x'.repeat(maxStanzaSize + 100));
        const got = await c.waitFor(/<stream:error/, 15_000).catch(() => null);
        if (!got) return { kind: 'hang', seen: c.text().slice(-300) };
      }
      return Promise.race([
        outcome(),
        new Promise<Outcome>((r) =>
          setTimeout(() => r({ kind: 'hang', seen: 'not closed after the stream error' }), 12_000).unref(),
        ),
      ]);
    },
    dispose: () => c.destroy(),
  };
}

async function postBytes(url: string, body: Buffer): Promise<string> {
  // A BOSH request that never gets an answer is a hang: the fetch fails the test.
  const r = await fetch(url, {
    method: 'POST',
    body: new Uint8Array(body),
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    signal: AbortSignal.timeout(20_000),
  });
  return r.text();
}

/** BOSH: `input` is either a whole request (with RID and SID placeholders) or payloads to wrap in one. */
export async function boshTarget(url: string): Promise<Target> {
  const b = new RawBosh(url);
  await b.login({ wait: 2 });
  let ended = false;
  return {
    async run(input) {
      const id = `alive-${++pings}`;
      let bytes: Buffer;
      if (input.subarray(0, 5).toString('latin1') === '<body') {
        // Every RID placeholder gets the same next rid: a second <body> must not look like a later request.
        const rid = String(++b.rid);
        bytes = Buffer.from(input.toString('latin1').replace(/RID/g, rid).replace(/SID/g, b.sid), 'latin1');
      } else {
        const [head, tail] = b.body('\u0000' + pingXml(id)).split('\u0000');
        bytes = Buffer.concat([Buffer.from(head), input, Buffer.from(tail)]);
      }
      let text = await postBytes(url, bytes);
      for (let polls = 0; ; polls++) {
        if (/type=["']terminate["']/.test(text)) {
          ended = true;
          const inner = text.match(STREAM_COND);
          const cond = /condition=["']([a-z-]+)["']/.exec(text)?.[1] ?? 'none';
          // Check the session is really gone.
          const after = await postBytes(url, Buffer.from(b.body('')));
          return {
            kind: 'error',
            condition: cond === 'remote-stream-error' && inner ? inner[1] : cond,
            closed: /condition=["']item-not-found["']/.test(after),
          };
        }
        // Answered without ending the session: alive (the ping may have been swallowed by a mutated stanza).
        if (text.includes(`id="${id}"`) || polls >= 2) return { kind: 'alive' };
        text = await postBytes(url, Buffer.from(b.body('')));
      }
    },
    dispose: () => {
      if (!ended) void postBytes(url, Buffer.from(b.body('', { type: 'terminate' }))).catch(() => {});
    },
  };
}
