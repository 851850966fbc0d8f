// Minimal raw XMPP clients for benchmarks: string matching instead of XML parsing, so the harness stays cheap.
import net from 'node:net';
import tls from 'node:tls';
import { WebSocket } from 'ws';

export interface RawClient {
  jid: string;
  send(xml: string): void;
  /** Called for every chunk/frame received after login. */
  onData(fn: (s: string) => void): void;
  close(): void;
}

/** Sends one thing, then waits until the accumulated input matches. */
type Exchange = (send: string | null, until: RegExp) => Promise<string>;

async function login(x: Exchange, open: string, host: string, preAuth?: () => Promise<void>): Promise<string> {
  await x(open, /<\/stream:features>/);
  if (preAuth) await preAuth();
  await x('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>', /<success/);
  await x(open, /<\/stream:features>/);
  const bound = await x(
    '<iq xmlns="jabber:client" type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>',
    /<jid>([^<]+)<\/jid>/,
  );
  void host;
  return /<jid>([^<]+)<\/jid>/.exec(bound)![1];
}

export function wsClient(url: string, host: string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['xmpp'], { perMessageDeflate: false });
    let buf = '';
    let waiter: { re: RegExp; done: (s: string) => void } | null = null;
    let sink: ((s: string) => void) | null = null;
    ws.on('message', (d) => {
      const s = d.toString();
      if (sink) return sink(s);
      buf += s;
      if (waiter && waiter.re.test(buf)) {
        const w = waiter;
        waiter = null;
        const b = buf;
        buf = '';
        w.done(b);
      }
    });
    ws.on('error', reject);
    const x: Exchange = (send, until) =>
      new Promise((done) => {
        waiter = { re: until, done };
        if (send) ws.send(send);
      });
    ws.on('open', async () => {
      const jid = await login(
        x,
        `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${host}" version="1.0"/>`,
        host,
      );
      resolve({
        jid,
        send: (s) => ws.send(s),
        onData: (fn) => {
          sink = fn;
        },
        close: () => ws.terminate(),
      });
    });
  });
}

/** TCP with STARTTLS (or plain when the server does not require TLS and `starttls` is false). */
export function tcpClient(port: number, host: string, starttls = true): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    let sock: net.Socket = net.connect(port, '127.0.0.1');
    let buf = '';
    let waiter: { re: RegExp; done: (s: string) => void } | null = null;
    let sink: ((s: string) => void) | null = null;
    const onData = (d: Buffer) => {
      const s = d.toString();
      if (sink) return sink(s);
      buf += s;
      if (waiter && waiter.re.test(buf)) {
        const w = waiter;
        waiter = null;
        const b = buf;
        buf = '';
        w.done(b);
      }
    };
    sock.on('data', onData);
    sock.on('error', reject);
    const x: Exchange = (send, until) =>
      new Promise((done) => {
        waiter = { re: until, done };
        if (send) sock.write(send);
      });
    const open = `<stream:stream to="${host}" version="1.0" xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams">`;
    sock.on('connect', async () => {
      const upgrade = starttls
        ? async () => {
            await x('<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>', /<proceed/);
            sock.off('data', onData);
            const t = tls.connect({ socket: sock, servername: host, rejectUnauthorized: false });
            await new Promise((r) => t.once('secureConnect', r));
            t.on('data', onData);
            sock = t;
            await x(open, /<\/stream:features>/);
          }
        : undefined;
      try {
        const jid = await login(x, open, host, upgrade);
        resolve({
          jid,
          send: (s) => sock.write(s),
          onData: (fn) => {
            sink = fn;
          },
          close: () => sock.destroy(),
        });
      } catch (e) {
        reject(e);
      }
    });
  });
}
