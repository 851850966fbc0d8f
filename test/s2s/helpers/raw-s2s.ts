// A hand-driven S2S connection for attack tests: plain TCP, we write the XML ourselves and read what comes back.
import net from 'node:net';

export interface RawS2s {
  write(xml: string): void;
  /** Resolves with everything read so far once it matches `re` (or rejects after `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<string>;
  /** Resolves when the server closed the connection. */
  closed: Promise<void>;
  text(): string;
  destroy(): void;
}

export function rawS2s(port: number): Promise<RawS2s> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      let buf = '';
      const waiters: Array<() => void> = [];
      s.on('data', (d) => {
        buf += d.toString('utf8');
        for (const w of [...waiters]) w();
      });
      const closed = new Promise<void>((r) => s.once('close', () => r()));
      resolve({
        write: (x) => {
          s.write(x);
        },
        text: () => buf,
        closed,
        destroy: () => s.destroy(),
        waitFor: (re, ms = 5000) =>
          new Promise((res, rej) => {
            const check = () => {
              if (re.test(buf)) {
                waiters.splice(waiters.indexOf(check), 1);
                clearTimeout(t);
                res(buf);
              }
            };
            const t = setTimeout(() => {
              waiters.splice(waiters.indexOf(check), 1);
              rej(new Error(`timed out waiting for ${re} in: ${buf.slice(-600)}`));
            }, ms);
            waiters.push(check);
            check();
          }),
      });
    });
    s.once('error', reject);
  });
}

export const header = (from: string, to: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='${from}' to='${to}' version='1.0'>`;
