// Shared bits for the certificate tests: temp folders, test certificates, a TLS echo server and client.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { generateSelfSigned, type GenerateOptions } from '../../src/certs/self-signed.js';
import type { CertificateStore, CertLogger, ReloadResult } from '../../src/certs/store.js';

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'certs-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface TestCert {
  certPem: string;
  keyPem: string;
  fingerprint256: string;
}

export async function makeCert(names: string[], opts: Partial<GenerateOptions> = {}): Promise<TestCert> {
  const { certPem, keyPem } = await generateSelfSigned({ names, ...opts });
  return { certPem, keyPem, fingerprint256: new X509Certificate(certPem).fingerprint256 };
}

export async function writeCert(certFile: string, keyFile: string, c: TestCert): Promise<void> {
  await writeFile(keyFile, c.keyPem, { mode: 0o600 });
  await writeFile(certFile, c.certPem);
}

/** A logger that remembers every line, for asserting on what the admin would read. */
export function memoryLog(): CertLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

/**
 * The direct-TLS shape the transports use: a plain TCP server that reads each client's SNI, wraps the socket
 * with the store's certificate for it, then echoes. Returns the port and a stop function that also destroys open sockets.
 */
export interface EchoServer {
  port: number;
  stop: () => Promise<void>;
  /** Accepted sockets in order, each with a promise for the end of its server-side handshake. */
  serverSockets: { socket: tls.TLSSocket; secure: Promise<void> }[];
}

export async function startEchoServer(
  store: CertificateStore,
  onSecure?: (t: tls.TLSSocket) => void,
): Promise<EchoServer> {
  const sockets = new Set<net.Socket>();
  const serverSockets: EchoServer['serverSockets'] = [];
  const server = net.createServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    void store.wrapServerSocket(raw).then((t) => serve(t));
  });
  const serve = (t: tls.TLSSocket) => {
    const secure = new Promise<void>((r) =>
      t.once('secure', () => {
        onSecure?.(t);
        r();
      }),
    );
    serverSockets.push({ socket: t, secure });
    t.on('error', () => t.destroy());
    t.on('data', (d) => t.write(d));
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    serverSockets,
    stop: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export function connect(port: number, opts: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends a line and waits for the echo: proves the TLS session still carries data. */
export function roundTrip(s: tls.TLSSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => reject(new Error('no echo within 2 s')), 2000);
    const onData = (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) {
        clearTimeout(timer);
        s.off('data', onData);
        resolve(got);
      }
    };
    s.on('data', onData);
    s.write(text);
  });
}

// Through getPeerCertificate().raw: in Node 20 a client's getPeerX509Certificate() works only once per socket.
function peerX509(s: tls.TLSSocket): X509Certificate | undefined {
  const raw = s.getPeerCertificate().raw;
  return raw ? new X509Certificate(raw) : undefined;
}

export function peerNames(s: tls.TLSSocket): string[] {
  const san = peerX509(s)?.subjectAltName ?? '';
  return [...san.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]);
}

export function peerFingerprint(s: tls.TLSSocket): string | undefined {
  return peerX509(s)?.fingerprint256;
}

/** Waits for a 'reload' event whose result satisfies `pred`. */
export function reloadWhere(
  store: CertificateStore,
  pred: (r: ReloadResult) => boolean,
  timeoutMs = 5000,
): Promise<ReloadResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      store.off('reload', on);
      reject(new Error(`no matching reload within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (r: ReloadResult) => {
      if (!pred(r)) return;
      clearTimeout(timer);
      store.off('reload', on);
      resolve(r);
    };
    store.on('reload', on);
  });
}

/** uvu has no async `rejects`: resolves with the error's message, fails when the promise resolves. */
export async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a rejection, got success');
}
