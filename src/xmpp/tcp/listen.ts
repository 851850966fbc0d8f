// One TCP listening socket, shared by the c2s and s2s listeners.
import net from 'node:net';

export interface Listening {
  server: net.Server;
  host: string;
  port: number;
}

/** Listens on host:port; "::" is IPv6 only, so that livechat's "*, ::" means both families on one port. */
export function listenTcp(host: string, port: number, onSocket: (s: net.Socket) => void): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = net.createServer(onSocket);
    server.once('error', reject);
    server.listen({ port, host, ipv6Only: host === '::' }, () => {
      server.off('error', reject);
      const a = server.address() as net.AddressInfo;
      resolve({ server, host: a.address, port: a.port });
    });
  });
}
