// A peertube-plugin-livechat instance's XMPP side, as a real peer: Debian's Prosody 0.12 with livechat's
// mod_websocket_s2s_peertubelivechat and mod_s2s_peertubelivechat, configured the way livechat's
// server/lib/prosody/config/content.ts does when WebSocket S2S is on and direct S2S off (no s2s port, dialback on
// the users' host and the MUC component, peers found through the serverInfos folder). Killed by PID.
import { writeFile, mkdir, cp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProsody } from '../../helpers/prosody.js';
import { selfSigned } from '../../s2s/helpers/peers.js';
const MODULES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../shared/livechat-prosody-modules');

export interface LivechatPeer {
  domain: string;
  c2sPort: number;
  httpPort: number;
  /** Its WebSocket S2S endpoint. */
  wsS2sUrl: string;
  /** Tells it where a remote instance's WebSocket S2S endpoint is (what the plugin writes from ActivityPub). */
  addRemote(hosts: string[], mainHost: string, url: string): Promise<void>;
  register(user: string, password: string): Promise<void>;
  readLog(): Promise<string>;
  stop(): Promise<void>;
}

export async function startLivechatProsody(domain: string): Promise<LivechatPeer> {
  const p = await startProsody({
    name: 'livechat-prosody',
    ports: { count: 2, base: 18700, span: 200 },
    folders: ['modules', 'serverInfos'],
    logLevel: 'debug',
    timeoutMs: 15_000,
    async prepare(f) {
      for (const m of ['mod_websocket_s2s_peertubelivechat', 'mod_s2s_peertubelivechat']) {
        await cp(join(MODULES, m), join(f.dir, 'modules', m), { recursive: true }).catch((e: Error) => {
          throw new Error(`livechat's Prosody modules are needed at ${MODULES}: ${e.message}`);
        });
      }
      await selfSigned(f.certsDir, domain);
    },
    readyPorts: ([c2sPort, httpPort]) => [httpPort, c2sPort],
    config: ({ dir, certsDir, ports: [c2sPort, httpPort] }) => `
plugin_paths = { "${dir}/modules" }
interfaces = { "127.0.0.1" }
c2s_ports = { ${c2sPort} }
c2s_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = { }
s2s_ports = { }
s2s_interfaces = { "127.0.0.1" }
s2s_direct_tls_ports = { }
http_ports = { ${httpPort} }
http_interfaces = { "127.0.0.1" }
https_ports = { }
http_default_host = "${domain}"
trusted_proxies = { "127.0.0.1" }
consider_websocket_secure = true
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "http", "s2s", "s2s_peertubelivechat", "websocket_s2s_peertubelivechat" }
s2s_secure_auth = false
s2s_require_encryption = false
peertubelivechat_server_infos_path = "${dir}/serverInfos"
peertubelivechat_instance_url = "http://${domain}"
websocket_s2s_ping_interval = 55
s2s_peertubelivechat_no_outgoing_directs2s_to_peertube = true
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
VirtualHost "${domain}"
  ssl = { certificate = "${certsDir}/${domain}.crt", key = "${certsDir}/${domain}.key" }
  modules_enabled = { "dialback" }
Component "room.${domain}" "muc"
  modules_enabled = { "websocket_s2s_peertubelivechat", "dialback" }
  muc_room_locking = false
  muc_room_default_public_jids = false
`,
  });
  const [c2sPort, httpPort] = p.ports;
  return {
    domain,
    c2sPort,
    httpPort,
    wsS2sUrl: `ws://127.0.0.1:${httpPort}/xmpp-websocket-s2s`,
    async addRemote(hosts, mainHost, url) {
      for (const h of hosts) {
        await mkdir(join(p.dir, 'serverInfos', h), { recursive: true });
        await writeFile(join(p.dir, 'serverInfos', h, 'ws-s2s'), JSON.stringify({ host: mainHost, url }));
      }
    },
    async register(user, password) {
      await p.prosodyctl('register', user, domain, password);
    },
    readLog: p.readLog,
    stop: p.stop,
  };
}
