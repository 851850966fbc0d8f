// One interop test file per peer server, all built the same way: a DNS server on loopback, our server and the peer
// resolving each other through it, then the shared scenario, then everything stopped.
import { writeFile } from 'node:fs/promises';
import { suite } from 'uvu';
import { pickDnsPort, startDns, type TestDns } from './dns.js';
import { startOurs, type S2sTestServer } from './ours.js';
import type { Peer } from './peers.js';
import { roomScenario } from './scenario.js';
import { connectClient } from '../../helpers/xmpp-client.js';

export interface InteropSuiteOptions {
  /** Starts the peer for `domain`, resolving through the DNS server on `dnsPort`. */
  startPeer(domain: string, dnsPort: number): Promise<Peer>;
  peerDomain: string;
  /** The host our SRV records point at (default: an address record of our own); see ejabberd.test.ts. */
  ourSrvTarget?: string;
}

export function interopSuite(title: string, opts: InteropSuiteOptions): void {
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // the peer's c2s certificate is self-signed
  const t = suite(title);
  let dns: TestDns | undefined;
  let ours: S2sTestServer | undefined;
  let peer: Peer | undefined;

  t.before(async () => {
    const port = await pickDnsPort();
    ours = await startOurs('ours.example', `127.0.0.1:${port}`);
    peer = await opts.startPeer(opts.peerDomain, port);
    const a = ours.records(opts.ourSrvTarget);
    const b = peer.records();
    dns = await startDns(port, { hosts: { ...a.hosts, ...b.hosts }, srv: [...a.srv, ...b.srv] });
  });

  roomScenario(t, () => ({
    transport: 'tcp',
    host: { server: ours!, domain: ours!.domain },
    remote: {
      domain: peer!.domain,
      bare: `alice@${peer!.domain}`,
      async connect() {
        await peer!.register('alice', 'alice-pass-1');
        return connectClient({
          service: `xmpp://127.0.0.1:${peer!.c2sPort}`,
          domain: peer!.domain,
          username: 'alice',
          password: 'alice-pass-1',
        });
      },
    },
  }));

  t.after(async () => {
    // S2S_DEBUG=FILE keeps the peer's log for diagnosis.
    if (process.env.S2S_DEBUG) await writeFile(process.env.S2S_DEBUG, (await peer?.readLog()) ?? '');
    await ours?.stop();
    await peer?.stop();
    await dns?.stop();
  });

  t.run();
}
