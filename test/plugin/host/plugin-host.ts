// A PeerTube plugin host for tests, shaped on PeerTube's own plugin code (plugin-manager.ts, register-helpers.ts,
// plugin-helpers-builder.ts, controllers/plugins.ts, models/server/plugin.ts):
// - the plugin is installed from a folder named after its npm name, as PeerTube installs one from disk: pnpm (8.x,
//   package-manager.ts, with the pnpm-workspace.yaml PeerTube writes) or yarn 1 (7.x, yarn.ts) run
//   `add file:<folder>` in <storage>/plugins, then the package.json is checked like PeerTube checks it;
// - `library` is require()d (CommonJS) and register() awaited with the helpers PeerTube builds;
// - an Express app with PeerTube's body parsers, its plugin routes (/plugins/:name/router and
//   /plugins/:name/:version/router with optional bearer authentication, static dirs, client scripts) and its
//   upgrade routing (/plugins/<name>/[<version>/]ws/<route>, the first registered route starting with the path);
// - settings, storage and hooks with PeerTube's semantics (defaults only while nothing was saved for getSetting, an
//   admin save replacing the whole object, getData parsing JSON and giving null for a missing key, actions not
//   awaited, the settings-change callbacks awaited one after the other before the save answers, errors logged);
// - what PeerTube's server.ts and controllers/plugins.ts put around plugin routes: X-Frame-Options: DENY on every
//   response (helmet's frameguard, on by default), and the per-IP rate limiter of /plugins/* (rates_limit.plugins:
//   500 requests per 10 s by default, then 429).
import express from 'express';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import { HostDatabase } from './database.js';

const require = createRequire(import.meta.url);
const BIN = fileURLToPath(new URL('../../../node_modules/.bin/', import.meta.url));

/** The package manager PeerTube runs in its plugins folder: pnpm since 8.0, yarn 1 before. */
export type PackageManager = 'pnpm' | 'yarn';

export interface HostOptions {
  /** rates_limit.plugins (PeerTube's defaults: 500 requests per 10 s per IP). */
  pluginsRateLimit?: { windowMs: number; max: number };
}

interface Setting {
  name?: string;
  default?: unknown;
  private?: boolean;
  type: string;
}
interface Hook {
  target: string;
  handler: (...a: unknown[]) => unknown;
  priority?: number;
}
interface WsRoute {
  route: string;
  handler: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export interface PluginPackageJson {
  name: string;
  description: string;
  version: string;
  engine: { peertube: string };
  homepage: string;
  author: unknown;
  bugs: string;
  library: string;
  staticDirs: Record<string, string>;
  css: string[];
  clientScripts: Array<{ script: string; scopes: string[] }>;
  translations: Record<string, string>;
}

const NPM_NAME_RE = /^(@[^._][a-z-_.~0-9]+\/)?([a-z-0-9]+)$/;
const isSafePath = (p: unknown) => typeof p === 'string' && !p.split(/[/\\]/).includes('..');
const isUrl = (v: unknown) => typeof v === 'string' && /^https?:\/\/[^\s/]+/.test(v);

/** PeerTube's isPackageJSONValid for a plugin: the names of the invalid fields. */
export function badPackageFields(p: PluginPackageJson): string[] {
  const bad: string[] = [];
  const m = typeof p.name === 'string' ? NPM_NAME_RE.exec(p.name) : null;
  if (!m || !(m[2].startsWith('peertube-plugin-') || m[2].startsWith('peertube-theme-'))) bad.push('name');
  if (typeof p.description !== 'string' || p.description.length < 1 || p.description.length > 250)
    bad.push('description');
  if (!p.engine?.peertube) bad.push('engine');
  if (p.homepage === undefined || p.homepage === null || (p.homepage && !isUrl(p.homepage))) bad.push('homepage');
  if (p.author === undefined || p.author === null) bad.push('author');
  if (p.bugs === undefined || p.bugs === null || (p.bugs && !isUrl(p.bugs))) bad.push('bugs');
  if (!isSafePath(p.library)) bad.push('library');
  if (typeof p.staticDirs !== 'object' || !Object.values(p.staticDirs).every(isSafePath)) bad.push('staticDirs');
  if (!Array.isArray(p.css) || !p.css.every(isSafePath)) bad.push('css');
  if (!Array.isArray(p.clientScripts) || !p.clientScripts.every((c) => isSafePath(c.script) && Array.isArray(c.scopes)))
    bad.push('clientScripts');
  if (typeof p.translations !== 'object' || !Object.values(p.translations).every(isSafePath)) bad.push('translations');
  return bad;
}

export class PeerTubeHost {
  readonly db = new HostDatabase();
  readonly app = express();
  readonly server: Server;
  readonly logs: string[] = [];
  url = '';
  pluginPath = '';
  pkg!: PluginPackageJson;
  name = '';
  private registered = false;
  private library: { register: (o: unknown) => Promise<void>; unregister: () => Promise<void> } | null = null;
  private router: express.Router | null = null;
  private settings: Record<string, unknown> | null = null;
  private storage = new Map<string, string>();
  private registeredSettings: Setting[] = [];
  private hooks: Hook[] = [];
  private wsRoutes: WsRoute[] = [];
  private settingsCallbacks: Array<(s: unknown) => unknown> = [];
  /** Promises of actions and callbacks PeerTube would not await, so tests can wait for them. */
  readonly pending: Promise<unknown>[] = [];

  private readonly rateLimit: { windowMs: number; max: number };
  /** Requests per client IP in the current window of the plugin routes' limiter. */
  private readonly hits = new Map<string, { count: number; resetAt: number }>();

  constructor(
    readonly storageDir: string,
    opts: HostOptions = {},
  ) {
    this.rateLimit = opts.pluginsRateLimit ?? { windowMs: 10_000, max: 500 };
    this.server = createServer(this.app);
    this.setupApp();
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const port = (this.server.address() as AddressInfo).port;
    // WEBSERVER.URL: what PeerTube's config says its public URL is.
    this.url = `http://localhost:${port}`;
  }

  /**
   * What an admin does with the release tarball: extract it into a folder named after the npm name (PeerTube takes
   * the name from the folder: `basename(path)`), then PeerTube's install from disk.
   */
  install(tgz: string, pm: PackageManager = 'pnpm'): void {
    const tmp = mkdtempSync(join(this.storageDir, 'upload-'));
    execFileSync('tar', ['-xzf', tgz, '-C', tmp]);
    const name = (JSON.parse(readFileSync(join(tmp, 'package', 'package.json'), 'utf8')) as { name: string }).name;
    const folder = join(tmp, name);
    renameSync(join(tmp, 'package'), folder);
    this.installFromDisk(folder, pm);
  }

  /** PluginManager.install({ fromDisk: true }): `<pm> add file:<path>` in <storage>/plugins, then the checks. */
  installFromDisk(path: string, pm: PackageManager = 'pnpm'): void {
    const dir = join(this.storageDir, 'plugins');
    mkdirSync(dir, { recursive: true });
    if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), '{}');
    // PeerTube 8's initPNPM: build scripts allowed, a flat node_modules like yarn's.
    if (pm === 'pnpm' && !existsSync(join(dir, 'pnpm-workspace.yaml')))
      writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'dangerouslyAllowAllBuilds: true\nnodeLinker: hoisted\n');
    try {
      execFileSync(join(BIN, pm), ['add', `file:${path}`], {
        cwd: dir,
        encoding: 'utf8',
        stdio: 'pipe',
        env: { ...process.env, CI: 'true' },
      });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(
        `${pm} add file:${path} failed (PeerTube: "Cannot install plugin"):\n${err.stdout ?? ''}${err.stderr ?? ''}`,
        { cause: e },
      );
    }
    this.loadInstalled(basename(path));
  }

  /** Reads the installed plugin's package.json and checks it as PeerTube does before registering. */
  loadInstalled(npmName: string): void {
    // PluginModel.getTypeFromNpmName / normalizePluginName: a name without the plugin prefix is taken for a theme,
    // so a folder named otherwise ("package", as the tarball extracts) fails here reading a theme's package.json.
    const type = npmName.startsWith('peertube-plugin-') ? 'plugin' : 'theme';
    const short = npmName.replace(/^peertube-(plugin|theme)-/, '');
    this.pluginPath = join(this.storageDir, 'plugins', 'node_modules', `peertube-${type}-${short}`);
    this.pkg = JSON.parse(readFileSync(join(this.pluginPath, 'package.json'), 'utf8')) as PluginPackageJson;
    if (type === 'theme') throw new Error('themes are not emulated');
    this.pkg.staticDirs ??= {};
    this.pkg.css ??= [];
    this.pkg.clientScripts ??= [];
    this.pkg.translations ??= {};
    const bad = badPackageFields(this.pkg);
    if (bad.length) throw new Error(`PackageJSON is invalid (invalid fields: ${bad.join(', ')}).`);
    this.name = short;
  }

  dataDir(): string {
    return join(this.storageDir, 'plugins', 'data', `peertube-plugin-${this.name}`);
  }

  async register(): Promise<void> {
    const modulePath = join(this.pluginPath, this.pkg.library);
    delete require.cache[require.resolve(modulePath)];
    const library = require(modulePath) as PeerTubeHost['library'];
    if (typeof library?.register !== 'function' || typeof library.unregister !== 'function') {
      throw new Error('Library code is not valid (miss register or unregister function)');
    }
    this.library = library;
    this.router = express.Router();
    this.wsRoutes = [];
    this.settingsCallbacks = [];
    mkdirSync(this.dataDir(), { recursive: true });
    await library.register(this.registerOptions());
    this.hooks.sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
    this.registered = true;
  }

  /** PluginManager.update from disk: unregister, install the new files over the old, register again. */
  async update(path: string, pm: PackageManager = 'pnpm'): Promise<void> {
    await this.unregister();
    this.installFromDisk(path, pm);
    await this.register();
  }

  async unregister(): Promise<void> {
    if (!this.registered) throw new Error(`Unknown plugin ${this.name} to unregister`);
    this.registered = false;
    await this.library!.unregister();
    this.hooks = [];
  }

  /**
   * The admin's "save" on the plugin settings page (controllers/api/plugins.ts updatePluginSettings): the whole
   * object is replaced, then PluginManager.onSettingsChanged awaits each callback in turn (an error is logged and
   * the next one runs); the admin's request answers 204 only after that, so the returned promise does too.
   */
  saveSettings(values: Record<string, unknown>): Promise<void> {
    this.settings = { ...values };
    const settings = this.settings;
    const done = (async () => {
      for (const cb of this.settingsCallbacks) {
        try {
          await cb(settings);
        } catch (e) {
          this.logs.push(`error: Cannot run on settings changed callback: ${e}`);
        }
      }
    })();
    this.pending.push(done);
    return done;
  }

  /** Every registered setting with its current value, as the admin form would submit it. */
  currentSettingsForm(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const s of this.registeredSettings) if (s.name) out[s.name] = this.settings?.[s.name] ?? s.default ?? null;
    return out;
  }

  publicSettings(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const s of this.registeredSettings)
      if (s.name && s.private === false) out[s.name] = this.settings?.[s.name] ?? s.default ?? null;
    return out;
  }

  /** PluginManager.runHook: filters chained and awaited; actions fired and not awaited. */
  async runHook<T>(target: string, result?: T, params?: unknown): Promise<T | undefined> {
    for (const h of this.hooks.filter((x) => x.target === target)) {
      if (target.startsWith('filter:')) {
        try {
          result = (await h.handler(result, params)) as T;
        } catch (e) {
          this.logs.push(`hook ${target}: ${e}`);
        }
      } else if (target.startsWith('action:')) {
        this.pending.push(
          Promise.resolve()
            .then(() => h.handler(params))
            .catch((e) => this.logs.push(`hook ${target}: ${e}`)),
        );
      }
    }
    return result;
  }

  hasHook(target: string): boolean {
    return this.hooks.some((h) => h.target === target);
  }

  async settle(): Promise<void> {
    while (this.pending.length) await this.pending.shift();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private registerOptions() {
    const name = this.name;
    const version = this.pkg.version;
    const db = this.db;
    const log = (level: string) => (m: unknown) => {
      this.logs.push(`${level}: ${String(m)}`);
      if (process.env.HOST_DEBUG) console.log(`[plugin ${level}] ${m}`);
    };
    const getSettingValue = (n: string) => {
      if (!this.settings) return this.registeredSettings.find((s) => s.name === n)?.default;
      return this.settings[n];
    };
    return {
      registerHook: (h: Hook) => {
        this.hooks.push(h);
      },
      registerSetting: (s: Setting) => {
        this.registeredSettings = [...this.registeredSettings.filter((x) => x.name !== s.name), s];
      },
      getRouter: () => this.router,
      registerWebSocketRoute: (r: WsRoute) => {
        this.wsRoutes.push(r);
      },
      settingsManager: {
        getSetting: async (n: string) => getSettingValue(n),
        getSettings: async (names: string[]) => {
          const out: Record<string, unknown> = {};
          for (const n of names) {
            if (!this.settings || this.settings[n] === undefined) {
              const d = this.registeredSettings.find((s) => s.name === n)?.default;
              if (d !== undefined) out[n] = d;
            } else out[n] = this.settings[n];
          }
          return out;
        },
        setSetting: async (n: string, v: unknown) => {
          this.settings = { ...(this.settings ?? {}), [n]: v };
        },
        onSettingsChange: (cb: (s: unknown) => unknown) => {
          this.settingsCallbacks.push(cb);
        },
      },
      storageManager: {
        getData: async (key: string) => {
          const v = this.storage.get(key);
          if (v === undefined) return null;
          try {
            return JSON.parse(v);
          } catch {
            return v;
          }
        },
        storeData: async (key: string, data: unknown) => {
          this.storage.set(key, JSON.stringify(data));
        },
      },
      peertubeHelpers: {
        logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
        database: {
          query: (sql: string, o?: { replacements?: Record<string, unknown>; type?: string }) => db.query(sql, o),
        },
        videos: { loadByIdOrUUID: async (id: number | string) => db.loadVideo(id) },
        config: { getWebserverUrl: () => this.url },
        plugin: {
          getBaseStaticRoute: () => `/plugins/${name}/${version}/static/`,
          getBaseRouterRoute: () => `/plugins/${name}/${version}/router/`,
          getBaseWebSocketRoute: () => `/plugins/${name}/${version}/ws/`,
          getDataDirectoryPath: () => this.dataDir(),
        },
        user: {
          loadById: async (id: number) => db.loadUser(id),
          // PeerTube: undefined (not a promise) when the request carried no valid token.
          getAuthUser: (res: express.Response) => {
            const user = res.locals.oauth?.token?.User as { id: number } | undefined;
            if (!user) return undefined;
            return Promise.resolve(db.loadUser(user.id));
          },
        },
      },
    };
  }

  /** controllers/plugins.ts pluginsRateLimiter (express-rate-limit keyed by IP): headers, then 429 past the max. */
  private readonly pluginsRateLimiter: express.RequestHandler = (req, res, next) => {
    const ip = req.ip ?? req.socket.remoteAddress ?? '';
    const now = Date.now();
    let h = this.hits.get(ip);
    if (!h || h.resetAt <= now) {
      h = { count: 0, resetAt: now + this.rateLimit.windowMs };
      this.hits.set(ip, h);
    }
    h.count++;
    res.setHeader('X-RateLimit-Limit', String(this.rateLimit.max));
    res.setHeader('X-RateLimit-Remaining', String(Math.max(0, this.rateLimit.max - h.count)));
    if (h.count > this.rateLimit.max) {
      res.setHeader('Retry-After', String(Math.ceil((h.resetAt - now) / 1000)));
      return void res.status(429).json({ status: 429, error: 'Too many requests, please try again later.' });
    }
    next();
  };

  private setupApp(): void {
    const app = this.app;
    // server.ts: app.set('trust proxy', CONFIG.TRUST_PROXY), whose default is ['loopback'].
    app.set('trust proxy', ['loopback']);
    // server.ts: helmet's frameguard (security.frameguard.enabled, true by default) on every response.
    app.use((_req, res, next) => {
      res.setHeader('X-Frame-Options', 'DENY');
      next();
    });
    app.use(express.json({ type: ['application/json', 'application/*+json'], limit: '500kb' }));
    app.use(express.urlencoded({ extended: false }));
    // PeerTube's lazy static route for actor images (account avatars), from <storage>/avatars.
    app.get('/lazy-static/avatars/:filename', (req, res) => {
      const f = req.params.filename;
      if (!/^[\w.-]+$/.test(f)) return void res.status(400).end();
      res.sendFile(join(this.storageDir, 'avatars', f), (err) => {
        if (err && !res.headersSent) res.status(404).end();
      });
    });
    const pluginValidator =
      (withVersion: boolean): express.RequestHandler =>
      (req, res, next) => {
        if (!this.registered || req.params.pluginName !== this.name) return void res.status(404).end();
        if (withVersion && req.params.pluginVersion !== this.pkg.version) return void res.status(404).end();
        res.locals.registeredPlugin = this;
        next();
      };
    const optionalAuthenticate: express.RequestHandler = (req, res, next) => {
      const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
      const user = m ? this.db.users.find((u) => u.token === m[1]) : undefined;
      if (m && !user) return void res.status(401).json({ error: 'Invalid token' });
      if (user) res.locals.oauth = { token: { User: { id: user.id } } };
      next();
    };
    const custom: express.RequestHandler = (req, res, next) => {
      if (!this.registered || !this.router) return void res.status(404).end();
      this.router(req, res, next);
    };
    app.get(
      '/plugins/:pluginName/:pluginVersion/static/:staticEndpoint(*)',
      this.pluginsRateLimiter,
      pluginValidator(true),
      (req, res) => {
        const [dir, ...file] = String(req.params.staticEndpoint).split('/');
        const sp = this.pkg.staticDirs[dir];
        if (!sp) return void res.status(404).end();
        res.sendFile(join(this.pluginPath, sp, file.join('/')));
      },
    );
    app.get(
      '/plugins/:pluginName/:pluginVersion/client-scripts/:staticEndpoint(*)',
      this.pluginsRateLimiter,
      pluginValidator(true),
      (req, res) => {
        const ep = String(req.params.staticEndpoint);
        if (!this.pkg.clientScripts.some((c) => c.script === ep)) return void res.status(404).end();
        res.sendFile(join(this.pluginPath, ep));
      },
    );
    app.use(
      '/plugins/:pluginName/router',
      this.pluginsRateLimiter,
      pluginValidator(false),
      optionalAuthenticate,
      custom,
    );
    app.use(
      '/plugins/:pluginName/:pluginVersion/router',
      this.pluginsRateLimiter,
      pluginValidator(true),
      optionalAuthenticate,
      custom,
    );
    // PluginManager.registerWebSocketRouter: an upgrade it does not route is left alone (not destroyed), for the
    // other upgrade listeners (socket.io, the tracker).
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const m = (req.url ?? '').match('/plugins/([^/]+)/([^/]+/)?ws(/.*)');
      if (!m || !this.registered || m[1] !== this.name) return;
      const ws = this.wsRoutes.find((r) => r.route.startsWith(m[3]));
      if (!ws) return;
      try {
        ws.handler(req, socket, head);
      } catch (e) {
        this.logs.push(`error: Exception in plugin handler: ${e}`);
      }
    });
    // socket.io's engine (destroyUpgrade, on by default): an upgrade nobody answered is ended after 1 s.
    this.server.on('upgrade', (_req: IncomingMessage, socket: Duplex & { bytesWritten?: number }) => {
      setTimeout(() => {
        if (socket.writable && (socket.bytesWritten ?? 0) <= 0) socket.end();
      }, 1000);
    });
  }

  /** The route PeerTube would pick for a WebSocket sub-path (tests that registration order is right). */
  webSocketRouteFor(subRoute: string): string | undefined {
    return this.wsRoutes.find((r) => r.route.startsWith(subRoute))?.route;
  }
}
