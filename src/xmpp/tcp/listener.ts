// TCP listeners for c2s: the STARTTLS port(s) and the optional direct TLS port.
import net from 'node:net';
import type { CertificateStore } from '../../certs/index.js';
import type { TcpConfig, ListenAddress } from './config.js';
import { listenTcp } from './listen.js';
import { TcpTransport } from './transport.js';
import type { WriteCoalescer } from '../write-coalescing.js';

export interface TcpListeners {
  addresses: { starttls: ListenAddress[]; directTls: ListenAddress[] };
  close(): Promise<void>;
}

export async function startTcpListeners(
  cfg: TcpConfig,
  opts: {
    certs: CertificateStore;
    maxStanzaSize: number;
    coalescer?: WriteCoalescer;
    accept(t: TcpTransport): void;
  },
): Promise<TcpListeners> {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const addresses = { starttls: [] as ListenAddress[], directTls: [] as ListenAddress[] };
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };

  const listen = async (host: string, port: number, onSocket: (s: net.Socket) => void): Promise<ListenAddress> => {
    const l = await listenTcp(host, port, (s) => {
      track(s);
      onSocket(s);
    });
    servers.push(l.server);
    return { host: l.host, port: l.port };
  };

  try {
    for (const host of cfg.interfaces) {
      addresses.starttls.push(
        await listen(host, cfg.port, (s) =>
          opts.accept(
            new TcpTransport(s, {
              certs: opts.certs,
              maxStanzaSize: opts.maxStanzaSize,
              requireEncryption: cfg.requireEncryption,
              coalescer: opts.coalescer,
            }),
          ),
        ),
      );
      if (cfg.directTls) {
        addresses.directTls.push(
          await listen(host, cfg.directTlsPort, (s) => {
            opts.certs.wrapServerSocket(s).then(
              (tlsSocket) => {
                tlsSocket.once('secure', () =>
                  opts.accept(
                    new TcpTransport(s, {
                      certs: opts.certs,
                      maxStanzaSize: opts.maxStanzaSize,
                      requireEncryption: cfg.requireEncryption,
                      coalescer: opts.coalescer,
                      tlsSocket,
                    }),
                  ),
                );
                tlsSocket.once('error', () => s.destroy());
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
      `cannot listen for XMPP clients on TCP: ${e.code === 'EADDRINUSE' ? `${e.message} (set tcp.port or --c2s-port)` : e.message}`,
      { cause: err },
    );
  }

  return {
    addresses,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
    },
  };
}
