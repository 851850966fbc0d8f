// The live-chat reference: Debian's Prosody 0.12 loaded with peertube-plugin-livechat's own MUC modules
// (../shared/livechat-prosody-modules), set up the way the plugin sets them up (room.<domain> MUC with slow mode,
// moderation delay, anonymized moderation, roles, announcements, terms, polls, restrict-message, MAM search,
// pubsub tasks/notes), anon.<domain> anonymous login, WebSocket for clients. `sideBySide` runs one client script
// against our server and against this Prosody, so a test can compare what a user of each would observe.
// Prosody runs in the foreground as our child, with its own config and data dir, on loopback ports; stopped by PID.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { isDeepStrictEqual, inspect } from 'node:util';
import { startProsody } from './prosody.js';
import { startTestServer, type TestServer } from './server.js';
import { connectClient, type TestClient, type ClientOptions } from './xmpp-client.js';

/** livechat's module folder, shared with the other test peers. */
export const LIVECHAT_MODULES = fileURLToPath(new URL('../../../shared/livechat-prosody-modules/', import.meta.url));
const PORT_BASE = 19000; // this area's range: 19000–19199
const PORT_SPAN = 200;
const START_TIMEOUT_MS = 20_000;

export interface LivechatProsodyOptions {
  domain?: string;
  /** Global terms (livechat's `chat-terms` setting → muc_terms_global). */
  chatTerms?: string;
}

export interface LivechatProsody {
  domain: string;
  mucHost: string;
  anonHost: string;
  wsUrl: string;
  /** The tail of Prosody's log and output, for a failure message. */
  diagnostics(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * livechat builds its common-emoji regexp from ConverseJS's emoji.json: every non-custom entry's code points
 * as `\x{…}` sequences, joined by `|`. Same data here, so emoji-only mode accepts the same characters.
 */
function commonEmojiRegexp(): string {
  const require = createRequire(import.meta.url);
  const data = require('converse.js/dist/emoji.json') as Record<string, Record<string, { cp?: string; sn?: string }>>;
  const alts: string[] = [];
  for (const [category, entries] of Object.entries(data)) {
    if (category === 'custom') continue;
    for (const e of Object.values(entries)) {
      if (e.cp)
        alts.push(
          e.cp
            .split('-')
            .map((c) => `\\x{${c}}`)
            .join(''),
        );
      else if (e.sn) alts.push(e.sn);
    }
  }
  return alts.join('|');
}

/** A Lua long string that cannot be closed early by its content. */
function luaLong(s: string): string {
  let eq = '=';
  while (s.includes(`]${eq}]`)) eq += '=';
  return `[${eq}[${s}]${eq}]`;
}

function luaStr(s: string): string {
  return JSON.stringify(s); // JSON string escapes are valid Lua escapes for this ASCII-only use
}

function config(httpPort: number, domain: string, o: LivechatProsodyOptions): string {
  const muc = `room.${domain}`;
  const modules = LIVECHAT_MODULES.replace(/\/$/, '');
  return `
plugin_paths = { ${luaStr(modules)} }
storage = "internal"
interfaces = { "127.0.0.1" }
c2s_ports = { }
s2s_ports = { }
component_ports = { }
http_ports = { ${httpPort} }
http_interfaces = { "127.0.0.1" }
https_ports = { }
admins = { "admin@${domain}" }
modules_enabled = { "roster", "saslauth", "carbons", "version", "uptime", "ping", "disco", "http", "websocket" }
modules_disabled = { "s2s", "posix" }
consider_websocket_secure = true
c2s_require_encryption = false
allow_unencrypted_plain_auth = true

-- Accounts: any name and password log in, like our server's test mode (livechat uses PeerTube's own login).
VirtualHost ${luaStr(domain)}
  authentication = "insecure"
  insecure_open_authentication = "Yes please, I know what I'm doing!"

VirtualHost ${luaStr(`anon.${domain}`)}
  authentication = "anonymous"
  modules_disabled = { "carbons" }
  allow_anonymous_s2s = false

Component ${luaStr(muc)} "muc"
  admins = { }
  muc_room_locking = false
  muc_tombstones = false
  muc_room_default_language = "en"
  muc_room_default_public = false
  muc_room_default_persistent = true
  muc_room_default_members_only = false
  muc_room_default_moderated = false
  muc_room_default_public_jids = false
  muc_room_default_change_subject = false
  muc_room_default_history_length = 20
  restrict_room_creation = false
  modules_enabled = {
    "muc_slow_mode", "pubsub_peertubelivechat", "muc_peertubelivechat_roles", "muc_peertubelivechat_announcements",
    "muc_peertubelivechat_terms", "muc_moderation_delay", "muc_anonymize_moderation_actions", "muc_mam_search",
    "muc_mam", "muc_moderation", "muc_poll", "muc_peertubelivechat_restrict_message"
  }
  slow_mode_duration_form_position = 120
  moderation_delay_form_position = 118
  anonymize_moderation_actions_form_position = 117
  muc_terms_service_nickname = "Peertube"
${o.chatTerms !== undefined ? `  muc_terms_global = ${luaLong(o.chatTerms)}\n` : ''}\
  muc_log_by_default = true
  muc_log_presences = true
  log_all_rooms = false
  muc_log_expires_after = "never"
  poll_string_over = "This poll is now over."
  poll_string_invalid_choice = "This choice is not valid."
  poll_string_anonymous_vote_ok = "Your vote is taken into account. Votes are anonymous, they will not be shown to other participants."
  poll_string_vote_instructions = "Send a message with an exclamation mark followed by your choice number to vote. Example: !1"
  peertubelivechat_restrict_message_common_emoji_regexp = ${luaLong(commonEmojiRegexp())}
`;
}

/** Starts a livechat-configured Prosody; throws with Prosody's log tail when it cannot. */
export async function startLivechatProsody(o: LivechatProsodyOptions = {}): Promise<LivechatProsody> {
  const domain = o.domain ?? 'localhost';
  if (!existsSync(join(LIVECHAT_MODULES, 'mod_muc_slow_mode'))) {
    throw new Error(`livechat's Prosody modules are missing (expected in ${LIVECHAT_MODULES})`);
  }
  const p = await startProsody({
    name: 'livechat-prosody',
    ports: { count: 1, base: PORT_BASE, span: PORT_SPAN },
    packages: 'prosody lua-rex-onig',
    failOnLoggedErrors: true,
    timeoutMs: START_TIMEOUT_MS,
    readyPorts: ([http]) => [http],
    readyUrl: ([http]) => `http://127.0.0.1:${http}/xmpp-websocket`,
    config: ({ ports: [httpPort] }) => config(httpPort, domain, o),
  });
  return {
    domain,
    mucHost: `room.${domain}`,
    anonHost: `anon.${domain}`,
    wsUrl: `ws://127.0.0.1:${p.ports[0]}/xmpp-websocket`,
    diagnostics: () => p.diagnostics(),
    stop: p.stop,
  };
}

/** One server a side-by-side script runs against, seen as a client sees it. */
export interface ChatTarget {
  name: 'ours' | 'prosody';
  domain: string;
  mucHost: string;
  anonHost: string;
  wsUrl: string;
  /** An account on `domain` (any password works on both targets). */
  user(name: string, opts?: Partial<ClientOptions>): Promise<TestClient>;
  /** An anonymous login on `anonHost`, like a PeerTube viewer without an account. */
  anon(opts?: Partial<ClientOptions>): Promise<TestClient>;
  /** Our server, for the few settings with no wire protocol (undefined on Prosody). */
  ours?: TestServer;
}

function target(
  name: ChatTarget['name'],
  wsUrl: string,
  domain: string,
  clients: TestClient[],
  ours?: TestServer,
): ChatTarget {
  const track = (c: TestClient) => {
    clients.push(c);
    return c;
  };
  return {
    name,
    domain,
    wsUrl,
    ours,
    mucHost: `room.${domain}`,
    anonHost: `anon.${domain}`,
    user: async (u, opts = {}) =>
      track(await connectClient({ service: wsUrl, domain, username: u, password: 'pw', resource: 'web', ...opts })),
    anon: async (opts = {}) => track(await connectClient({ service: wsUrl, domain: `anon.${domain}`, ...opts })),
  };
}

export interface SideBySideOptions {
  /** Compare the scripts' results (default true): the same observable result is expected on both. */
  compare?: boolean;
  /** Overrides for our server's config. */
  ours?: Parameters<typeof startTestServer>[0];
  prosody?: LivechatProsodyOptions;
}

/**
 * Runs `script` against our server, then against the livechat Prosody, and returns both results. Fails (never
 * skips) when Prosody cannot start, when the script fails on either side, or, unless `compare: false`, when the
 * two results differ; each message names the target. Clients the script opens are stopped afterwards.
 */
export async function sideBySide<R>(
  name: string,
  script: (t: ChatTarget) => Promise<R>,
  o: SideBySideOptions = {},
): Promise<{ ours: R; prosody: R }> {
  const results: Partial<Record<ChatTarget['name'], R>> = {};
  const failures: string[] = [];
  for (const which of ['ours', 'prosody'] as const) {
    const clients: TestClient[] = [];
    let srv: TestServer | undefined;
    let pro: LivechatProsody | undefined;
    try {
      let t: ChatTarget;
      if (which === 'ours') {
        srv = await startTestServer({ testMode: true, ...(o.ours ?? {}) });
        t = target('ours', srv.wsUrl, 'localhost', clients, srv);
      } else {
        pro = await startLivechatProsody(o.prosody);
        t = target('prosody', pro.wsUrl, pro.domain, clients);
      }
      results[which] = await script(t);
      console.log(`  ${name} [${which}]: ok`);
    } catch (e) {
      const diag = pro ? `\n--- prosody log tail ---\n${await pro.diagnostics()}` : '';
      failures.push(`[${which}] ${(e as Error).stack ?? e}${diag}`);
      console.log(`  ${name} [${which}]: FAILED`);
    } finally {
      for (const c of clients) await c.stop();
      await srv?.stop();
      await pro?.stop();
    }
  }
  if (failures.length)
    throw new Error(
      `${name}: failed on ${failures.length === 2 ? 'both targets' : failures[0].slice(1, failures[0].indexOf(']'))}\n${failures.join('\n')}`,
    );
  if (o.compare !== false && !isDeepStrictEqual(results.ours, results.prosody)) {
    throw new Error(
      `${name}: our server and livechat's Prosody differ\n  ours:    ${inspect(results.ours, { depth: 6 })}\n  prosody: ${inspect(results.prosody, { depth: 6 })}`,
    );
  }
  return { ours: results.ours as R, prosody: results.prosody as R };
}

/** Runs `script` against our server only, for behaviour livechat has no module or no wire protocol for. */
export async function onOurs<R>(
  script: (t: ChatTarget) => Promise<R>,
  overrides: SideBySideOptions['ours'] = {},
): Promise<R> {
  const clients: TestClient[] = [];
  const srv = await startTestServer({ testMode: true, ...overrides });
  try {
    return await script(target('ours', srv.wsUrl, 'localhost', clients, srv));
  } finally {
    for (const c of clients) await c.stop();
    await srv.stop();
  }
}
