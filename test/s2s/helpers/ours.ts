// Our server with S2S on loopback for interop tests: domain, anon.domain and room.domain, its S2S listener on an
// ephemeral port, lookups through the test's DNS server only.
import { startTestServer, type TestServer } from '../../helpers/server.js';
import type { Raw } from '../../../src/config-schema.js';
import { mergeRaw } from '../../../src/config.js';
import type { SrvSpec } from './dns.js';

export interface S2sTestServer extends TestServer {
  domain: string;
  s2sPort: number;
  /**
   * SRV and A records that make this server reachable from peers (for the test's DNS server). `target` names the
   * SRV target host; "localhost" suits peers that look SRV up in DNS but targets up with the system's getaddrinfo
   * (ejabberd's xmpp library does).
   */
  records(target?: string): { hosts: Record<string, string>; srv: SrvSpec[] };
}

export async function startOurs(domain: string, dnsAddress: string, extra: Raw = {}): Promise<S2sTestServer> {
  const srv = await startTestServer(
    mergeRaw(
      {
        domain,
        testMode: true, // the room owner in the shared scenario is a local account
        s2s: {
          enabled: true,
          interfaces: ['127.0.0.1'],
          port: 0,
          dnsServers: [dnsAddress],
          idleTimeoutSeconds: 60,
          connectTimeoutSeconds: 8,
        },
        // The room service must let remote users create rooms in these tests.
        muc: { creation: 'anyone' },
      },
      extra,
    ),
  );
  const s2sPort = srv.server.s2s!.addresses!.starttls[0].port;
  return {
    ...srv,
    domain,
    s2sPort,
    records: (target = `xmpp.${domain}`) => ({
      hosts: { [target]: '127.0.0.1' },
      srv: [domain, `anon.${domain}`, `room.${domain}`].map((d) => ({
        service: '_xmpp-server._tcp' as const,
        domain: d,
        target,
        port: s2sPort,
      })),
    }),
  };
}
