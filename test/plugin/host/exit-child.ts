// Child process for the "a process holding only the plugin can exit" test: loads the installed plugin in a host,
// opens a WebSocket session and a BOSH session, unregisters, closes the HTTP server, and never calls process.exit.
// Exits by itself only if the plugin released every socket, timer and file handle.
import { PeerTubeHost } from './plugin-host.js';
import { connectClient } from '../../helpers/xmpp-client.js';
import { wsService } from './router-api.js';

const host = new PeerTubeHost(process.argv[2]);
host.loadInstalled('peertube-plugin-livechat');
await host.listen();
await host.register();
const ws = await connectClient({ service: wsService({ host }), domain: 'anon.localhost' });
const bosh = await fetch(`${host.url}/plugins/livechat/router/http-bind`, {
  method: 'POST',
  headers: { 'Content-Type': 'text/xml' },
  body: "<body rid='1' to='anon.localhost' ver='1.6' wait='30' hold='1' xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' xmpp:version='1.0'/>",
});
if (!/sid=/.test(await bosh.text())) throw new Error('no BOSH session');
const started = Date.now();
await host.unregister();
await ws.stop();
await host.close();
console.log(`unregistered in ${Date.now() - started} ms`);
