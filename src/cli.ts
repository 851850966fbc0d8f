// Standalone entry: `npm start -- [flags]` runs the server; admin verbs after Prosody's prosodyctl manage accounts
// (adduser, passwd, deluser, listusers) and rooms (rooms, destroy) through a running server's admin socket when
// one runs on the data folder, on the files otherwise; check and cert read the configuration and files.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ConfigError, mergeRaw, validateConfig, type ServerConfig } from './config.js';
import type { Raw } from './config-schema.js';
import { createServer } from './index.js';
import { applySmallHeapFlags } from './heap-flags.js';
import { heapLine, overriddenNodeOptions } from './node-flags.js';
import { AccountStore } from './auth/accounts.js';
import { askRunningServer } from './control/channel.js';
import { ONLINE_VERBS } from './control/online.js';
import { validateMuc } from './muc/config.js';
import { validateArchive } from './storage/config.js';

const USAGE = `usage: npm start -- [flags]
       npm run adduser -- USERNAME [--password PASSWORD] [flags]   (password read from stdin when not given)
       node dist/src/cli.js passwd USERNAME | deluser USERNAME | listusers [flags]
       node dist/src/cli.js check | cert | rooms | destroy ROOM [flags]
       node dist/src/cli.js import-livechat --from PROSODY_DATA_DIR [flags]   (server stopped; see README)
verbs:
  adduser, passwd     create an account / change its password (password read from stdin unless --password)
  deluser, listusers  remove an account / list accounts
  check               validate the configuration and the data and certificate folders (exit 1 on a problem)
  cert                show the certificate each host uses (self-signed ones are created in the data folder)
  rooms               list persistent rooms (and, on a running server, temporary ones)
  destroy ROOM [WHY]  destroy a room: occupants are told, its configuration and archive removed
  (account verbs, rooms and destroy go to the running server on the data folder if there is one,
   through its admin socket DATA/admin.sock; otherwise they edit the data folder)
  import-livechat     import a livechat Prosody's rooms and archives (stop the server first)
flags:
  --config FILE       JSON config file (flags override it)
  --domain DOMAIN     main domain (default localhost; anon.DOMAIN and room.DOMAIN follow)
  --http-host HOST    HTTP listen address (default 127.0.0.1)
  --http-port PORT    HTTP port (default 5280)
  --c2s-port PORT     XMPP client TCP port, STARTTLS (default 5222 on 127.0.0.1)
  --s2s-port PORT     XMPP server-to-server port; enables S2S (default 5269 on *, ::)
  --dns HOST:PORT     DNS server for S2S SRV/A lookups (default: the system's)
  --data DIR          data folder (default ./data)
  --from DIR          import-livechat: the livechat Prosody data folder (<plugin data>/prosody/data)
  --log-level LEVEL   error | warn | info | debug (default info)
  --log-format FMT    text | json (one JSON object per line) (default text)
  --heap MODE         default | small: V8 flags for a smaller footprint still (1 MB semi-spaces, optimize for
                      size: ~27% more CPU in a 400-viewer evening, twice the CPU with 10,000 viewers) (default
                      default; npm start's own node flags are in package.json's start script, see README)
  --help`;

const FLAGS: Record<string, (raw: Raw, v: string) => void> = {
  '--domain': (r, v) => {
    r.domain = v;
  },
  '--http-host': (r, v) => {
    r.http = { ...(r.http as Raw), host: v };
  },
  '--http-port': (r, v) => {
    r.http = { ...(r.http as Raw), port: v };
  },
  '--data': (r, v) => {
    r.dataDir = v;
  },
  '--log-level': (r, v) => {
    r.logLevel = v;
  },
  '--log-format': (r, v) => {
    r.logFormat = v;
  },
  '--heap': (r, v) => {
    r.heap = v;
  },
  '--c2s-port': (r, v) => {
    r.tcp = { ...(r.tcp as Raw), port: v };
  },
  '--s2s-port': (r, v) => {
    r.s2s = { ...(r.s2s as Raw), port: v };
  },
  '--dns': (r, v) => {
    r.s2s = { ...(r.s2s as Raw), dns: v };
  },
};

class UsageError extends Error {}

const VERBS = [
  'start',
  'adduser',
  'passwd',
  'deluser',
  'listusers',
  'check',
  'cert',
  'rooms',
  'destroy',
  'import-livechat',
];

function parseArgs(argv: string[]): {
  command: string;
  positional: string[];
  raw: Raw;
  password?: string;
  from?: string;
} {
  let command = 'start';
  const positional: string[] = [];
  let fileRaw: Raw = {};
  const flagRaw: Raw = {};
  let password: string | undefined;
  let from: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [name, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--')))
        throw new UsageError(`${name} needs a value`);
      return v;
    };
    if (name === '--help' || name === '-h') throw new UsageError('');
    else if (name === '--config') {
      const file = value();
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new UsageError(`--config: cannot read ${file}: ${(e as Error).message}`);
      }
      try {
        fileRaw = JSON.parse(text) as Raw;
      } catch (e) {
        throw new UsageError(`--config: ${file} is not valid JSON: ${(e as Error).message}`);
      }
      if (!fileRaw || typeof fileRaw !== 'object' || Array.isArray(fileRaw))
        throw new UsageError(`--config: ${file} must hold a JSON object`);
    } else if (name === '--password') password = value();
    else if (name === '--from') from = value();
    else if (FLAGS[name]) FLAGS[name](flagRaw, value());
    else if (name.startsWith('-')) throw new UsageError(`unknown flag ${name}`);
    else if (i === 0 && VERBS.includes(name)) command = name;
    else positional.push(name);
  }
  // The standalone default has a persistent demo room, so the README's one URL works right after `npm start`.
  const standaloneDefaults: Raw = { muc: { demoRoom: 'demo' } };
  return { command, positional, raw: mergeRaw(mergeRaw(standaloneDefaults, fileRaw), flagRaw), password, from };
}

async function readPassword(): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  if (process.stdin.isTTY) process.stderr.write('password: ');
  for await (const line of rl) {
    rl.close();
    return line;
  }
  return '';
}

async function accountsCommand(
  command: string,
  positional: string[],
  config: ServerConfig,
  password?: string,
): Promise<void> {
  const store = await AccountStore.open(config.dataDir);
  if (command === 'listusers') {
    for (const u of store.list()) console.log(`${u}@${config.domain}`);
    return;
  }
  const user = positional[0]?.toLowerCase();
  if (!user) throw new UsageError(`${command} needs a USERNAME`);
  if (command === 'adduser' || command === 'passwd') {
    if (command === 'passwd' && !store.userExists(user)) throw new Error(`no account ${user}@${config.domain}`);
    const pw = password ?? (await readPassword());
    if (!pw) throw new UsageError('the password is empty');
    await store.setPassword(user, pw);
    await store.flush();
    console.log(
      command === 'passwd'
        ? `password of ${user}@${config.domain} changed`
        : `account ${user}@${config.domain} saved in ${config.dataDir}`,
    );
  } else {
    const removed = await store.remove(user);
    console.log(removed ? `account ${user}@${config.domain} removed` : `no account ${user}@${config.domain}`);
    if (!removed) process.exitCode = 1;
    await store.flush();
  }
}

async function importCommand(config: ServerConfig, from: string | undefined): Promise<void> {
  if (!from) throw new UsageError('import-livechat needs --from PROSODY_DATA_DIR');
  const muc = validateMuc(config.modules.muc, 'muc', config.mucHost);
  const { importLivechatProsody } = await import('./import/livechat/import.js');
  const report = await importLivechatProsody({
    prosodyDataDir: from,
    dataDir: config.dataDir,
    mucHost: muc.host,
    maxHistoryLength: muc.maxHistoryLength,
    archive: validateArchive(config.modules.archive, 'archive'),
    log: (level, msg) => (level === 'warn' ? console.error(msg) : console.log(msg)),
  });
  if (report.rooms.length === 0 && report.errors.length === 0) throw new Error(`no Prosody MUC rooms found in ${from}`);
  const done = report.rooms.filter((r) => !r.skipped);
  console.log(
    `imported ${done.length} room(s), ${done.reduce((n, r) => n + r.messages, 0)} message(s) into ${config.dataDir}` +
      `; ${report.rooms.length - done.length} skipped, ${report.errors.length} unreadable file(s)`,
  );
}

/** Runs a verb on the server running on the data folder; undefined when none runs there. */
async function runOnline(
  verb: string,
  positional: string[],
  config: ServerConfig,
  password?: string,
): Promise<number | undefined> {
  const wantsPassword = verb === 'adduser' || verb === 'passwd';
  if ((wantsPassword || verb === 'deluser') && !positional[0]) throw new UsageError(`${verb} needs a USERNAME`);
  if (verb === 'destroy' && !positional[0]) throw new UsageError('destroy needs a ROOM');
  // Ask first whether a server answers, so a password is only read when it will be used by the right side.
  const probe = await askRunningServer(config.dataDir, { verb: 'ping', args: [] });
  if (!probe) return undefined;
  let pw: string | undefined;
  if (wantsPassword) {
    pw = password ?? (await readPassword());
    if (!pw) throw new UsageError('the password is empty');
  }
  const reply = await askRunningServer(config.dataDir, { verb, args: positional, password: pw });
  if (!reply) throw new Error('the running server stopped while answering');
  for (const l of reply.lines) (reply.status === 0 ? console.log : console.error)(l);
  return reply.status;
}

async function main(): Promise<void> {
  let args;
  let config: ServerConfig;
  try {
    args = parseArgs(process.argv.slice(2));
    config = validateConfig(args.raw);
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.message) console.error(`error: ${err.message}`);
      console.error(USAGE);
      process.exit(err.message ? 2 : 0);
    }
    if (err instanceof ConfigError) {
      console.error(`error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  if (args.command !== 'start') {
    try {
      const print = (l: string) => console.log(l);
      if ((ONLINE_VERBS as readonly string[]).includes(args.command)) {
        const status = await runOnline(args.command, args.positional, config, args.password);
        if (status !== undefined) {
          process.exitCode = status;
          return;
        }
      }
      // The offline verbs' code is loaded for them only, not by a running server.
      const { certs, check, destroyRoom, rooms } = await import('./admin/offline.js');
      if (args.command === 'check') process.exitCode = await check(config, print);
      else if (args.command === 'cert') process.exitCode = await certs(config, print);
      else if (args.command === 'rooms') process.exitCode = await rooms(config, print);
      else if (args.command === 'destroy') {
        if (!args.positional[0]) throw new UsageError('destroy needs a ROOM');
        process.exitCode = await destroyRoom(config, args.positional[0], print);
      } else if (args.command === 'import-livechat') await importCommand(config, args.from);
      else await accountsCommand(args.command, args.positional, config, args.password);
    } catch (err) {
      console.error(`error: ${(err as Error).message}`);
      process.exit(err instanceof UsageError ? 2 : 1);
    }
    return;
  }
  for (const f of overriddenNodeOptions(process.execArgv, process.env.NODE_OPTIONS))
    console.error(
      `warning: NODE_OPTIONS ${f} is not in effect: node's command line sets it too (npm start gives node ` +
        `the flags in package.json's start script; to choose your own, run node <flags> dist/src/cli.js)`,
    );
  if (config.heap === 'small') applySmallHeapFlags();
  let server: ReturnType<typeof createServer>;
  try {
    server = createServer(config); // validates the module sections (muc, archive, tcp, …)
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.info(`${signal}: shutting down`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.stop().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  try {
    await server.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    console.error(
      `error: cannot start: ${e.code === 'EADDRINUSE' ? `address ${config.http.host}:${config.http.port} is in use (try --http-port)` : e.message}`,
    );
    process.exit(1);
  }
  server.log.info(heapLine());
  const a = server.httpAddress();
  if (a) {
    const base = `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
    const tcp = server
      .tcpAddresses()
      ?.starttls.map((t) => `${t.host}:${t.port}`)
      .join(', ');
    const ready = `chat server for ${config.domain} ready: ${base}/  (demo room: ${base}/webchat/room/demo, WebSocket: ws://${a.host}:${a.port}${config.http.websocketPath}${tcp ? `, TCP: ${tcp}` : ''})`;
    // With JSON logs stdout holds only JSON lines, so the banner is a log line too.
    if (config.logFormat === 'json') server.log.info(ready);
    else console.log(ready);
  }
}

void main();
