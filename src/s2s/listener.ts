// TCP listeners for incoming S2S: the STARTTLS port on each interface and, optionally, XEP-0368 direct TLS.
import net from 'node:net';
import type tls from 'node:tls';
import type { HostPort } from './config.js';
import { listenTcp } from '../xmpp/tcp/listen.js';

export interface S2sListeners {
  starttls: HostPort[];
  directTls: HostPort[];
  close(): Promise<void>;
}

export async function startS2sListeners(opts: {
  interfaces: string[];
  port: number;
  directTlsPort: number | null;
  wrap(s: net.Socket): Promise<tls.TLSSocket>;
  accept(s: net.Socket, tlsSocket?: tls.TLSSocket): void;
}): Promise<S2sListeners> {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const out: S2sListeners = { starttls: [], directTls: [], close: async () => {} };

  const listen = async (host: string, port: number, onSocket: (s: net.Socket) => void): Promise<HostPort> => {
    const l = await listenTcp(host, port, (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {
        /* handled by the stream */
      });
      onSocket(s);
    });
    servers.push(l.server);
    return { host: l.host, port: l.port };
  };

  try {
    for (const host of opts.interfaces) {
      // Port 0 (tests): every interface shares the port the first one got.
      const port = out.starttls[0] && opts.port === 0 ? out.starttls[0].port : opts.port;
      out.starttls.push(await listen(host, port, (s) => opts.accept(s)));
      if (opts.directTlsPort !== null) {
        const dport = out.directTls[0] && opts.directTlsPort === 0 ? out.directTls[0].port : opts.directTlsPort;
        out.directTls.push(
          await listen(host, dport, (s) => {
            opts.wrap(s).then(
              (t) => {
                t.once('secure', () => opts.accept(s, t));
                t.once('error', () => s.destroy());
              },
              () => s.destroy(),
            );
          }),
        );
      }
    }
  } catch (err) {
    for (const s of servers) s.close();
    const e = err as NodeJS.ErrnoException;
    throw new Error(
      `cannot listen for XMPP servers (S2S): ${e.code === 'EADDRINUSE' ? `${e.message} (set s2s.port or --s2s-port)` : e.message}`,
      { cause: err },
    );
  }
  out.close = async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
  };
  return out;
}
