// The certificates c2s (STARTTLS, direct TLS) and S2S share: folder certificates first, a self-signed one for the
// hosts the folder does not cover. Lookups read one immutable snapshot that a reload replaces in a single
// assignment, so a handshake never sees half a reload, and TLS sessions already up keep the context they started with.
import { EventEmitter } from 'node:events';
import { join, sep } from 'node:path';
import type net from 'node:net';
import tls from 'node:tls';
import { peekServerName } from './client-hello.js';
import { loadFolder } from './folder.js';
import { normalizeName, NameIndex } from './names.js';
import { CertificateError, type LoadedCert } from './pair.js';
import { ensureSelfSigned } from './self-signed.js';
import { DirWatcher } from './watcher.js';

export { CertificateError } from './pair.js';

export interface CertLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface CertificateStoreOptions {
  /** The server's data folder; the self-signed certificate lives in `<dataDir>/certs/`. */
  dataDir: string;
  /** Hosts to serve, main domain first (e.g. `localhost`, `anon.localhost`, `room.localhost`). */
  hosts: string[];
  /** A folder of PEM files (see folder.ts for the layouts). Without it everything is self-signed. */
  folder?: string;
  log?: CertLogger;
  /** Quiet time after the last file change before reloading. Default 500 ms. */
  debounceMs?: number;
}

export interface CertInfo {
  names: string[];
  source: string;
  selfSigned: boolean;
  notBefore: Date;
  notAfter: Date;
  fingerprint256: string;
}

export interface ReloadResult {
  /** Everything now served, folder certificates first. */
  certificates: CertInfo[];
  /** Files that could not be used; for those already loaded before, the old certificate stays (see `kept`). */
  problems: CertificateError[];
  warnings: string[];
  /** Sources whose previous certificate is still served because the new files were bad. */
  kept: string[];
}

interface Entry {
  cert: LoadedCert;
  context: tls.SecureContext;
}

class Snapshot {
  readonly folderIndex = new NameIndex<Entry>();
  readonly fallbackIndex = new NameIndex<Entry>();
  readonly defaultEntry: Entry;

  constructor(
    readonly folderEntries: Map<string, Entry>,
    readonly fallback: Entry | null,
    mainHost: string,
  ) {
    // Two files naming the same host (an old and a renewed one side by side): the one valid longest wins.
    const later = (a: Entry, b: Entry) => b.cert.notAfter > a.cert.notAfter;
    for (const e of folderEntries.values()) for (const n of e.cert.names) this.folderIndex.add(n, e, later);
    if (fallback) for (const n of fallback.cert.names) this.fallbackIndex.add(n, fallback, later);
    const main = this.lookup(mainHost) ?? folderEntries.values().next().value ?? fallback;
    if (!main) throw new Error('certificate store: no certificate at all');
    this.defaultEntry = main;
  }

  lookup(name: string): Entry | undefined {
    return this.folderIndex.get(name) ?? this.fallbackIndex.get(name);
  }

  all(): Entry[] {
    return [...this.folderEntries.values(), ...(this.fallback ? [this.fallback] : [])];
  }
}

const defaultLog: CertLogger = { info: () => {}, warn: (m) => console.warn(m), error: (m) => console.error(m) };

function info(e: Entry): CertInfo {
  const { names, source, selfSigned, notBefore, notAfter, fingerprint256 } = e.cert;
  return { names, source, selfSigned, notBefore, notAfter, fingerprint256 };
}

function entryFor(cert: LoadedCert): Entry {
  return { cert, context: tls.createSecureContext({ key: cert.keyPem, cert: cert.certPem }) };
}

export class CertificateStore extends EventEmitter<{ reload: [ReloadResult] }> {
  private snap!: Snapshot;
  private readonly hosts: string[];
  private readonly log: CertLogger;
  private watcher: DirWatcher | null = null;
  private dirs: string[] = [];
  private running: Promise<ReloadResult> | null = null;
  private queued: Promise<ReloadResult> | null = null;
  private closed = false;

  private constructor(private readonly opts: CertificateStoreOptions) {
    super();
    this.hosts = [...new Set(opts.hosts.map(normalizeName))];
    if (this.hosts.length === 0) throw new Error('certificate store: no hosts given');
    this.log = opts.log ?? defaultLog;
  }

  /** Loads the folder (if any) and the self-signed fallback. Rejects with a `CertificateError` naming each bad file. */
  static async create(opts: CertificateStoreOptions): Promise<CertificateStore> {
    const store = new CertificateStore(opts);
    const { snap, result, dirs } = await store.build(new Map(), null, true);
    if (result.problems.length === 1) throw result.problems[0];
    if (result.problems.length > 1) {
      throw new CertificateError(
        opts.folder ?? '',
        `${result.problems.length} problems:\n  ${result.problems.map((p) => p.message).join('\n  ')}`,
      );
    }
    store.snap = snap!;
    store.dirs = dirs ?? [];
    return store;
  }

  /** The context for an SNI name (exact, then wildcard); undefined when no certificate names it. */
  secureContextFor(servername: string): tls.SecureContext | undefined {
    return this.snap.lookup(servername)?.context;
  }

  /** For clients that send no SNI (or an unknown name): the certificate of the main host. */
  get defaultContext(): tls.SecureContext {
    return this.snap.defaultEntry.context;
  }

  /** SNICallback for server TLS sockets; unknown names get the main host's certificate. */
  readonly sniCallback = (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void): void => {
    cb(null, this.secureContextFor(servername) ?? this.snap.defaultEntry.context);
  };

  /**
   * Options for `new tls.TLSSocket(socket, …)` (STARTTLS upgrade or an accepted direct-TLS socket). Pass the name
   * the client will ask for when known (the stream's `to`, or `peekServerName`): the context must be right from
   * the start, because an SNICallback switch cannot unload a certificate of another key type (see client-hello.ts).
   */
  tlsSocketOptions(servername?: string): {
    isServer: true;
    secureContext: tls.SecureContext;
    SNICallback: CertificateStore['sniCallback'];
  } {
    const secureContext = (servername && this.secureContextFor(servername)) || this.defaultContext;
    return { isServer: true, secureContext, SNICallback: this.sniCallback };
  }

  /**
   * Starts server-side TLS on a plain socket whose next bytes are the client's ClientHello (right after
   * `<proceed/>`, or on accept for direct TLS): reads the SNI name first, then wraps with the matching certificate.
   */
  async wrapServerSocket(
    socket: net.Socket,
    extra: tls.TLSSocketOptions = {},
    helloTimeoutMs = 10_000,
  ): Promise<tls.TLSSocket> {
    const servername = await peekServerName(socket, helloTimeoutMs);
    return new tls.TLSSocket(socket, { ...extra, ...this.tlsSocketOptions(servername) });
  }

  hasCertificateFor(domain: string): boolean {
    return this.snap.lookup(domain) !== undefined;
  }

  /** The PEM chain (leaf first) served for `domain`, e.g. to compare with what a peer presents. */
  certificatePemFor(domain: string): string | undefined {
    return this.snap.lookup(domain)?.cert.certPem;
  }

  infoFor(domain: string): CertInfo | undefined {
    const e = this.snap.lookup(domain);
    return e && info(e);
  }

  certificates(): CertInfo[] {
    return this.snap.all().map(info);
  }

  /** Follows the folder and reloads (debounced) when files change. No-op without a folder. */
  watch(): void {
    if (!this.opts.folder || this.watcher || this.closed) return;
    this.watcher = new DirWatcher(
      this.opts.debounceMs ?? 500,
      () => void this.reload().catch(() => {}),
      (m) => this.log.warn(m),
    );
    this.watcher.setDirs(this.dirs);
  }

  /** Re-reads the folder and swaps in the result; bad files keep their previous certificate. Emits 'reload'. */
  reload(): Promise<ReloadResult> {
    if (this.queued) return this.queued;
    if (this.running) {
      this.queued = this.running
        .catch(() => undefined)
        .then(() => {
          this.queued = null;
          return this.startReload();
        });
      return this.queued;
    }
    return this.startReload();
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
  }

  private startReload(): Promise<ReloadResult> {
    const run = (async () => {
      const old = this.snap;
      const { snap, result, dirs } = await this.build(old.folderEntries, old.fallback, false);
      if (this.closed || !snap) return result;
      this.snap = snap;
      if (dirs) this.dirs = dirs;
      // Also re-tries directories whose watch broke (say, a folder deleted and made again). Files written into a
      // directory that appeared between our listing and its watch would go unseen, so a new directory earns one
      // more look.
      if (this.watcher && this.watcher.setDirs(this.dirs) > 0) this.watcher.poke();
      for (const p of result.problems)
        this.log.error(
          `${p.message}${result.kept.includes(p.file) ? ' (still serving the previous certificate)' : ''}`,
        );
      this.emit('reload', result);
      return result;
    })();
    this.running = run.finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async build(
    oldEntries: Map<string, Entry>,
    oldFallback: Entry | null,
    first: boolean,
  ): Promise<{ snap: Snapshot | null; result: ReloadResult; dirs?: string[] }> {
    const result: ReloadResult = { certificates: [], problems: [], warnings: [], kept: [] };
    const entries = new Map<string, Entry>();
    let dirs: string[] | undefined;
    if (this.opts.folder) {
      try {
        const fr = await loadFolder(this.opts.folder);
        dirs = fr.dirs;
        result.problems.push(...fr.problems);
        result.warnings.push(...fr.warnings);
        for (const c of fr.certs) {
          const prev = oldEntries.get(c.source);
          // Unchanged files keep their context object: cheaper, and nothing observable changes for them.
          entries.set(
            c.source,
            prev && prev.cert.fingerprint256 === c.fingerprint256 && prev.cert.keyPem === c.keyPem ? prev : entryFor(c),
          );
        }
      } catch (err) {
        if (!(err instanceof CertificateError)) throw err;
        result.problems.push(err); // the folder itself is unreadable
      }
      // A bad new file (half-written renewal, wrong key, unreadable folder) must not take its host offline:
      // keep the certificate that worked before.
      for (const p of result.problems) {
        for (const [src, e] of oldEntries) {
          const hit = p.file === src || p.file === e.cert.keyFile || src.startsWith(p.file + sep);
          if (hit && !entries.has(src)) {
            entries.set(src, e);
            if (!result.kept.includes(p.file)) result.kept.push(p.file);
          }
        }
      }
    }
    for (const w of result.warnings) this.log.warn(w);
    if (first && result.problems.length > 0) return { snap: null, result };

    let fallback = oldFallback;
    const probe = entries.size > 0 ? new Snapshot(entries, null, this.hosts[0]) : null;
    const uncovered = this.hosts.filter((h) => !probe?.folderIndex.get(h));
    if (uncovered.length > 0) {
      if (!fallback)
        fallback = entryFor(await ensureSelfSigned(join(this.opts.dataDir, 'certs'), this.hosts, this.log));
      if (this.opts.folder)
        this.log.warn(
          `certificate: no certificate in ${this.opts.folder} for ${uncovered.join(', ')}; serving the self-signed one (${fallback.cert.source})`,
        );
    }
    const snap = new Snapshot(entries, fallback, this.hosts[0]);
    result.certificates = snap.all().map(info);
    return { snap, result, dirs };
  }
}
