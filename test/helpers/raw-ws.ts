// A raw RFC 7395 client for sending what no real client would (malformed XML, oversized stanzas).
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';

export interface RawWs {
  ws: WebSocket;
  frames: string[];
  /** With `keepBytes`: every byte the server wrote to the socket, as read (the frames undecoded). */
  bytes: Buffer[];
  send(s: string): void;
  /** Resolves with the first frame (received or future) matching the regexp. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  closed: Promise<number>;
  close(): void;
}

export interface RawWsOptions {
  /** Keep the socket's raw bytes in `bytes`, from the first one (to check the framing itself). */
  keepBytes?: boolean;
  /** A socket already connected to the server, for the handshake to run over (instead of a new connection). */
  socket?: Socket;
  /** Extra request headers (a proxy's X-Forwarded-For). */
  headers?: Record<string, string>;
}

export function rawWs(url: string, opts: RawWsOptions = {}): Promise<RawWs> {
  return new Promise((resolve, reject) => {
    const socket = opts.socket;
    const ws = new WebSocket(url, ['xmpp'], {
      ...(opts.headers ? { headers: opts.headers } : {}),
      ...(socket ? { createConnection: () => socket } : {}),
    });
    const frames: string[] = [];
    const bytes: Buffer[] = [];
    const waiters: Array<{ re: RegExp; done: (s: string) => void }> = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('message', (d) => {
      const s = d.toString();
      frames.push(s);
      for (const w of [...waiters])
        if (w.re.test(s)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.done(s);
        }
    });
    ws.on('error', reject);
    ws.on('open', () => {
      // The server writes nothing before the client's <open/>: the capture starts at a frame boundary.
      if (opts.keepBytes) (ws as unknown as { _socket: Socket })._socket.on('data', (b: Buffer) => bytes.push(b));
      resolve({
        ws,
        frames,
        bytes,
        send: (s) => ws.send(s),
        waitFor(re, timeoutMs = 5000) {
          const f = frames.find((x) => re.test(x));
          if (f) return Promise.resolve(f);
          return new Promise((res, rej) => {
            const t = setTimeout(
              () => rej(new Error(`timed out waiting for ${re}; got: ${frames.join(' ').slice(0, 500)}`)),
              timeoutMs,
            );
            waiters.push({
              re,
              done: (s) => {
                clearTimeout(t);
                res(s);
              },
            });
          });
        },
        closed,
        close: () => ws.terminate(),
      });
    });
  });
}

/** The full JID the server bound for `c` (after anonymousRaw, or any bind it answered). */
export const jidOf = (c: RawWs): string => /<jid>([^<]+)<\/jid>/.exec(c.frames.join(''))![1]!;

/** Opens a stream on anon.localhost and authenticates anonymously, up to the bind features. */
export async function anonymousRaw(url: string, opts: RawWsOptions = {}): Promise<RawWs> {
  const c = await rawWs(url, opts);
  c.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="anon.localhost" version="1.0"/>');
  await c.waitFor(/<mechanism>ANONYMOUS<\/mechanism>/);
  c.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
  await c.waitFor(/<success/);
  c.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="anon.localhost" version="1.0"/>');
  await c.waitFor(/urn:ietf:params:xml:ns:xmpp-bind/);
  c.send('<iq xmlns="jabber:client" type="set" id="b1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>');
  await c.waitFor(/<jid>/);
  return c;
}

/**
 * A new connection that logs in anonymously again and resumes a stream-management session (XEP-0198 §5): resolves
 * once `<resumed/>` arrived, with the frames that followed it still arriving.
 */
export async function resumeRaw(url: string, previd: string, h: number): Promise<RawWs> {
  const c = await rawWs(url);
  c.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="anon.localhost" version="1.0"/>');
  await c.waitFor(/<mechanism>ANONYMOUS<\/mechanism>/);
  c.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
  await c.waitFor(/<success/);
  c.send('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="anon.localhost" version="1.0"/>');
  await c.waitFor(/urn:xmpp:sm:3/);
  c.send(`<resume xmlns="urn:xmpp:sm:3" previd="${previd}" h="${h}"/>`);
  await c.waitFor(/<resumed /, 10_000);
  return c;
}
