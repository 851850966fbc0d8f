// A throwaway Debian Prosody configured the way peertube-plugin-livechat configures it for its chat: internal storage,
// MUC on room.<domain> with mod_muc_mam (presences logged, as livechat does), persistent rooms, WebSocket for clients.
// Its data folder is what the import reads.
import { rm } from 'node:fs/promises';
import { startProsody } from '../helpers/prosody.js';

export interface LivechatProsody {
  domain: string;
  dir: string;
  dataDir: string;
  websocketUrl: string;
  register(user: string, password: string): Promise<void>;
  readLog(): Promise<string>;
  /** Stops Prosody (its data stays for the import). */
  stop(): Promise<void>;
  /** Removes the folder. */
  cleanup(): Promise<void>;
}

export async function startLivechatProsody(domain = 'localhost'): Promise<LivechatProsody> {
  const p = await startProsody({
    name: 'livechat-prosody',
    ports: { count: 1, base: 19400, span: 100 }, // this area's range: 19400–19499
    keepFolder: true,
    readyPorts: ([http]) => [http],
    readyUrl: ([http]) => `http://127.0.0.1:${http}/xmpp-websocket`,
    config: ({ ports: [httpPort] }) => `
storage = "internal"
interfaces = { "127.0.0.1" }
c2s_ports = { }
s2s_ports = { }
http_ports = { ${httpPort} }
http_interfaces = { "127.0.0.1" }
https_ports = { }
modules_enabled = { "saslauth", "roster", "disco", "ping", "websocket" }
modules_disabled = { "s2s" }
consider_websocket_secure = true
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_hashed"
VirtualHost "${domain}"
Component "room.${domain}" "muc"
  modules_enabled = { "muc_mam" }
  muc_room_locking = false
  muc_tombstones = false
  muc_room_default_language = "en"
  muc_room_default_public = false
  muc_room_default_persistent = true
  muc_room_default_history_length = 20
  muc_log_by_default = true
  muc_log_presences = true
  log_all_rooms = false
  muc_log_expires_after = "never"
  restrict_room_creation = "local"
`,
  });
  return {
    domain,
    dir: p.dir,
    dataDir: p.dataDir,
    websocketUrl: `ws://127.0.0.1:${p.ports[0]}/xmpp-websocket`,
    async register(user, password) {
      await p.prosodyctl('register', user, domain, password);
    },
    readLog: p.readLog,
    stop: p.stop,
    cleanup: () => rm(p.dir, { recursive: true, force: true }),
  };
}
