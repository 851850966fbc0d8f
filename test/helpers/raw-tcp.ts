// A raw RFC 6120 TCP client for sending exact bytes (malformed XML, invalid UTF-8), with STARTTLS and SASL
// ANONYMOUS so bad input can be sent at any point of the stream.
import net from 'node:net';
import tls from 'node:tls';

export interface RawTcp {
  /** Everything received so far (decoded as UTF-8). */
  text(): string;
  write(data: string | Buffer): boolean;
  /** Resolves with the received text once it matches `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the server closed the connection. */
  closed: Promise<void>;
  isClosed(): boolean;
  /** Sends <starttls/>, waits for <proceed/>, then runs TLS over the same socket. */
  startTls(): Promise<void>;
  /** Resolves when what was written so far has left (or rejects when the connection died). */
  drain(): Promise<void>;
  destroy(): void;
}

export const streamHeader = (to: string) =>
  `<?xml version='1.0'?><stream:stream to='${to}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;

export function rawTcp(port: number): Promise<RawTcp> {
  return new Promise((resolve, reject) => {
    let sock: net.Socket = net.connect(port, '127.0.0.1');
    let buf = '';
    let ended = false;
    const waiters: Array<() => void> = [];
    const notify = () => {
      for (const w of [...waiters]) w();
    };
    let closedResolve!: () => void;
    const closed = new Promise<void>((r) => {
      closedResolve = r;
    });
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      notify();
    };
    const onClose = () => {
      ended = true;
      closedResolve();
      notify();
    };
    const attach = (s: net.Socket) => {
      s.on('data', onData);
      s.on('close', onClose);
      s.on('error', () => {
        /* close follows */
      });
    };
    const api: RawTcp = {
      text: () => buf,
      write: (data) => !ended && !sock.destroyed && sock.write(data),
      waitFor(re, timeoutMs = 10_000) {
        return new Promise((res, rej) => {
          const check = () => {
            if (re.test(buf)) {
              done();
              res(buf);
              return true;
            }
            return false;
          };
          const t = setTimeout(() => {
            done();
            rej(new Error(`timed out waiting for ${re}; got: ${buf.slice(-600)}`));
          }, timeoutMs);
          const w = () => {
            check();
          };
          const done = () => {
            clearTimeout(t);
            const i = waiters.indexOf(w);
            if (i >= 0) waiters.splice(i, 1);
          };
          waiters.push(w);
          check();
        });
      },
      closed,
      isClosed: () => ended,
      async startTls() {
        const before = buf.length;
        sock.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        await api.waitFor(/<proceed[^>]*\/>/);
        if (buf.length < before) throw new Error('no proceed');
        sock.off('data', onData);
        sock.off('close', onClose);
        const secure = tls.connect({ socket: sock, rejectUnauthorized: false, servername: 'localhost' });
        await new Promise<void>((res, rej) => {
          secure.once('secureConnect', () => res());
          secure.once('error', rej);
        });
        sock = secure;
        buf = '';
        attach(secure);
      },
      drain() {
        // The callback of a write runs once everything written before it has been handed to the kernel.
        return new Promise((res, rej) => {
          if (ended || sock.destroyed) return rej(new Error('connection closed'));
          sock.write(Buffer.alloc(0), (err) => (err ? rej(err) : res()));
        });
      },
      destroy: () => sock.destroy(),
    };
    sock.once('error', reject);
    sock.once('connect', () => {
      attach(sock);
      resolve(api);
    });
  });
}

/** A TCP stream after STARTTLS (when asked) and SASL ANONYMOUS, with a bound resource. */
export async function anonymousTcp(
  port: number,
  opts: { starttls?: boolean; host?: string } = {},
): Promise<RawTcp & { jid: string }> {
  const host = opts.host ?? 'anon.localhost';
  const c = await rawTcp(port);
  c.write(streamHeader(host));
  await c.waitFor(/<\/stream:features>/);
  if (opts.starttls !== false) {
    await c.startTls();
    c.write(streamHeader(host));
    await c.waitFor(/<\/stream:features>/);
  }
  c.write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
  await c.waitFor(/<success/);
  c.write(streamHeader(host));
  await c.waitFor(/xmpp-bind[\s\S]*<\/stream:features>/);
  c.write("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  const got = await c.waitFor(/<jid>([^<]+)<\/jid>/);
  return Object.assign(c, { jid: /<jid>([^<]+)<\/jid>/.exec(got)![1] });
}
