-- Reference Prosody for validating the scansion replay tool (test/scansion/), modelled on the
-- config of Prosody's own spec/scansion/ suite, trimmed to what Debian's Prosody ships.
-- target-prosody.ts starts `prosody -F --config <this file>` with these environment variables:
--   SCANSION_DIR (a fresh temp dir per script), SCANSION_HTTP_PORT, SCANSION_C2S_PORT.
-- Storage is in memory: every script starts from an empty server.

local dir = ENV_SCANSION_DIR

daemonize = false
run_as_root = true -- CI containers often run as root; this instance only listens on loopback
pidfile = dir .. "/prosody.pid"
data_path = dir
log = { { levels = { min = "info" }, to = "file", filename = dir .. "/prosody.log" } }

admins = { "admin@localhost" }

modules_enabled = {
	"roster"; "saslauth"; "disco";
	"carbons"; "pep"; "private"; "blocklist"; "vcard4"; "vcard_legacy";
	"version"; "uptime"; "time"; "ping"; "register"; "mam";
	"server_contact_info"; "lastactivity";
	"websocket";
	"posix";
}
modules_disabled = { "s2s" }

-- Any password is accepted for any account, as the scripts assume.
authentication = "insecure"
insecure_open_authentication = "Yes please, I know what I'm doing!"
allow_registration = false
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
consider_websocket_secure = true
certificates = dir

storage = "memory"

interfaces = { "127.0.0.1" }
c2s_ports = { tonumber(ENV_SCANSION_C2S_PORT) }
c2s_direct_tls_ports = {}
legacy_ssl_ports = {}
http_ports = { tonumber(ENV_SCANSION_HTTP_PORT) }
http_interfaces = { "127.0.0.1" }
https_ports = {}
s2s_ports = {}

hide_os_type = true

VirtualHost "localhost"

Component "conference.localhost" "muc"
	storage = "memory"
	admins = { "admin@localhost" }
	modules_enabled = { "muc_mam" }
