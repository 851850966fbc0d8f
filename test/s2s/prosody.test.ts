// Interop with Prosody (Debian package) over S2S: a Prosody user joins a room here. Prosody resolves our domains
// through the test's dnsmasq (libunbound forwarder), we resolve prosody.example the same way.
import { startProsodyPeer } from './helpers/peers.js';
import { interopSuite } from './helpers/interop-suite.js';

interopSuite('s2s with Prosody', { startPeer: startProsodyPeer, peerDomain: 'prosody.example' });
