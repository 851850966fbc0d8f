// Dev/test fallback: a throwaway Prosody (Debian package) with the same shape as our standalone default
// (anon.<domain> anonymous login, room.<domain> MUC, WebSocket + BOSH), run as a child process with its own
// config in a temp dir. Never touches the system service.
import { startProsody as launch } from '../helpers/prosody.js';

export interface DevProsody {
  domain: string;
  httpPort: number;
  websocketUrl: string;
  boshUrl: string;
  /** Prosody's own log (info level), for diagnosing a failed test. */
  readLog(): Promise<string>;
  stop(): Promise<void>;
}

export async function startProsody(domain = 'localhost'): Promise<DevProsody> {
  const p = await launch({
    name: 'webchat-prosody',
    ports: { count: 1, base: 17000, span: 100 }, // this area's range: 17000–17099
    readyPorts: ([http]) => [http],
    readyUrl: ([http]) => `http://127.0.0.1:${http}/http-bind`,
    config: ({ ports: [httpPort] }) => `
interfaces = { "127.0.0.1" }
c2s_ports = { }
s2s_ports = { }
http_ports = { ${httpPort} }
http_interfaces = { "127.0.0.1" }
https_ports = { }
modules_enabled = { "saslauth", "roster", "disco", "ping", "websocket", "bosh", "vcard" }
modules_disabled = { "s2s" }
consider_websocket_secure = true
consider_bosh_secure = true
http_cors_override = { bosh = { enabled = true }, websocket = { enabled = true } }
c2s_require_encryption = false
authentication = "internal_hashed"
VirtualHost "${domain}"
VirtualHost "anon.${domain}"
  authentication = "anonymous"
Component "room.${domain}" "muc"
  restrict_room_creation = false
`,
  });
  const [httpPort] = p.ports;
  return {
    domain,
    httpPort,
    websocketUrl: `ws://127.0.0.1:${httpPort}/xmpp-websocket`,
    boshUrl: `http://127.0.0.1:${httpPort}/http-bind`,
    readLog: p.readLog,
    stop: p.stop,
  };
}
