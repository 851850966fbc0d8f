// The certificate used when no folder is configured (or the folder misses a host): self-signed, made once with
// node-forge and kept in the data folder so clients that pinned it keep trusting it across restarts.
//
// Memory: node-forge (~40 modules, a few MB of heap and code) is imported only when a certificate is made, and the
// server makes it in a short-lived child process (self-signed-child.ts), so a running server never holds forge.
//
// Cost: forge's callback form of generateKeyPair hands RSA key generation to Node's native crypto.generateKeyPair,
// which runs on the libuv thread pool, so the event loop is free for the ~50–300 ms it takes. Only the signature
// (a few ms of forge JS) runs on the main thread, and only when a certificate is (re)made.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type Forge from 'node-forge';
import { normalizeName } from './names.js';
import { generateInChild } from './self-signed-child.js';
import { CertificateError, loadPair, type LoadedCert } from './pair.js';

export type SignatureHash = 'sha256' | 'sha384' | 'sha512' | 'sha1';

export interface GenerateOptions {
  /** DNS names for subjectAltName; the first is also the subject CN. */
  names: string[];
  /** Validity from `notBefore` (default: one day ago, to absorb clock skew). Default 3650 days. */
  days?: number;
  notBefore?: Date;
  bits?: number;
  hash?: SignatureHash;
}

const DAY = 86_400_000;

function generateKeyPair(forge: typeof Forge, bits: number): Promise<Forge.pki.rsa.KeyPair> {
  return new Promise((resolve, reject) => {
    forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 }, (err, keys) => (err ? reject(err) : resolve(keys)));
  });
}

/** A fresh self-signed server (and client, for S2S) certificate and its key, both PEM. */
export async function generateSelfSigned(opts: GenerateOptions): Promise<{ certPem: string; keyPem: string }> {
  if (opts.names.length === 0) throw new Error('generateSelfSigned: at least one name is needed');
  const { default: forge } = await import('node-forge');
  const keys = await generateKeyPair(forge, opts.bits ?? 2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // DER integers are signed; keep the serial positive
  cert.serialNumber = serial.toString('hex');
  const notBefore = opts.notBefore ?? new Date(Date.now() - DAY);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = new Date(notBefore.getTime() + (opts.days ?? 3650) * DAY);
  const subject = [{ name: 'commonName', value: opts.names[0] }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: opts.names.map((value) => ({ type: 2, value })) },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md[opts.hash ?? 'sha256'].create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** Names the self-signed certificate carries for `hosts`: each host, plus `*.<first host>` for sub-hosts added later. */
export function selfSignedNames(hosts: string[]): string[] {
  const names = [...new Set(hosts.map(normalizeName))];
  if (names.length === 0) throw new Error('self-signed certificate: no host names given');
  const wildcard = `*.${names[0]}`;
  if (!names.includes(wildcard)) names.push(wildcard);
  return names;
}

export interface SelfSignedLog {
  info(msg: string): void;
  warn(msg: string): void;
}

/**
 * Loads `<dir>/<first host>.crt` + `.key`, or makes and saves them when missing, unreadable, for other names,
 * or within 30 days of expiry.
 */
export async function ensureSelfSigned(dir: string, hosts: string[], log?: SelfSignedLog): Promise<LoadedCert> {
  const names = selfSignedNames(hosts);
  const certFile = join(dir, `${names[0]}.crt`);
  const keyFile = join(dir, `${names[0]}.key`);
  const why = await reuseProblem(certFile, keyFile, names);
  if (why === null) return loadPair(certFile, keyFile, true);
  log?.info(`certificate: making a self-signed certificate for ${names.join(', ')} in ${certFile} (${why})`);
  const { certPem, keyPem } = await generateInChild(names).catch((e: unknown) => {
    // spawning may be refused where the server is embedded: make it here, as before
    log?.info(`certificate: making it in the server process (child: ${String((e as Error)?.message ?? e)})`);
    return generateSelfSigned({ names });
  });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeAtomic(keyFile, keyPem, 0o600);
  await writeAtomic(certFile, certPem, 0o644);
  return loadPair(certFile, keyFile, true);
}

async function reuseProblem(certFile: string, keyFile: string, names: string[]): Promise<string | null> {
  let c: LoadedCert;
  try {
    c = await loadPair(certFile, keyFile, true);
  } catch (err) {
    if (err instanceof CertificateError && /no such file/.test(err.message)) return 'none yet';
    return (err as Error).message;
  }
  const have = [...c.names].sort().join(',');
  if (have !== [...names].sort().join(',')) return `host names changed from ${c.names.join(', ')}`;
  if (c.notAfter.getTime() - Date.now() < 30 * DAY) return `expires ${c.notAfter.toISOString()}`;
  if (c.notBefore.getTime() > Date.now()) return 'not yet valid';
  return null;
}

let tmpCounter = 0;

async function writeAtomic(file: string, text: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.${++tmpCounter}.tmp`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}
