// Interop with ejabberd (Debian package) over S2S: an ejabberd user joins a room here. ejabberd resolves our domains
// through the test's dnsmasq (Erlang resolver config), we resolve ejabberd.example the same way.
import { startEjabberdPeer } from './helpers/peers.js';
import { interopSuite } from './helpers/interop-suite.js';

// ejabberd resolves SRV targets with getaddrinfo (system resolver, /etc/hosts), hence a localhost target.
interopSuite('s2s with ejabberd', {
  startPeer: startEjabberdPeer,
  peerDomain: 'ejabberd.example',
  ourSrvTarget: 'localhost',
});
