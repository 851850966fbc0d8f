// Interop with ejabberd (Debian package) over S2S: an ejabberd user joins a room here. ejabberd resolves our domains
// through the test's dnsmasq (Erlang resolver config), we resolve ejabberd.example the same way.
import { writeFile } from 'node:fs/promises';
import { suite } from 'uvu';
import { pickDnsPort, startDns, type TestDns } from './helpers/dns.js';
import { startOurs, type S2sTestServer } from './helpers/ours.js';
import { startEjabberdPeer, type Peer } from './helpers/peers.js';
import { interopScenario } from './helpers/scenario.js';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // the peer's c2s certificate is self-signed

const t = suite('s2s with ejabberd');
let dns: TestDns;
let ours: S2sTestServer;
let peer: Peer;

t.before(async () => {
  const port = await pickDnsPort();
  ours = await startOurs('ours.example', `127.0.0.1:${port}`);
  peer = await startEjabberdPeer('ejabberd.example', port);
  // ejabberd resolves SRV targets with getaddrinfo (system resolver, /etc/hosts), hence a localhost target.
  const a = ours.records('localhost');
  const b = peer.records();
  dns = await startDns(port, { hosts: { ...a.hosts, ...b.hosts }, srv: [...a.srv, ...b.srv] });
});

interopScenario(t, () => ({ ours, peer }));

t.after(async () => {
  // S2S_DEBUG=FILE keeps the peer's log for diagnosis.
  if (process.env.S2S_DEBUG) await writeFile(process.env.S2S_DEBUG, (await peer?.readLog()) ?? '');
  await ours?.stop();
  await peer?.stop();
  await dns?.stop();
});

t.run();
