// Reads one certificate + private key pair and checks it, with errors that name the file at fault.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { certNames } from './names.js';

export class CertificateError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`certificate: ${file}: ${problem}`);
  }
}

export interface LoadedCert {
  /** The certificate (chain) file; identifies the pair across reloads. */
  source: string;
  keyFile: string;
  /** Leaf first, then any intermediates, as read. */
  certPem: string;
  keyPem: string;
  names: string[];
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the leaf's DER, "AB:CD:…" as Node prints it. */
  fingerprint256: string;
  selfSigned: boolean;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const KEY_BLOCK =
  /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

export async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EACCES' ? 'permission denied' : e.code === 'ENOENT' ? 'no such file' : e.message;
    throw new CertificateError(file, `cannot read (${why})`);
  }
}

export function hasKeyBlock(pem: string): boolean {
  return KEY_BLOCK.test(pem);
}

/** Parses and cross-checks texts already read; `keyText` may be the same file as the certificate (combined PEM). */
export function parsePair(
  certFile: string,
  certText: string,
  keyFile: string,
  keyText: string,
  selfSigned = false,
): LoadedCert {
  const certBlock = CERT_BLOCK.exec(certText)?.[0];
  if (!certBlock)
    throw new CertificateError(certFile, 'not a PEM certificate (no "-----BEGIN CERTIFICATE-----" block)');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certBlock);
  } catch (err) {
    throw new CertificateError(certFile, `cannot parse certificate (${(err as Error).message})`);
  }
  const keyBlock = KEY_BLOCK.exec(keyText)?.[0];
  if (!keyBlock)
    throw new CertificateError(keyFile, 'not a PEM private key (no "-----BEGIN … PRIVATE KEY-----" block)');
  if (keyBlock.startsWith('-----BEGIN ENCRYPTED'))
    throw new CertificateError(keyFile, 'private key is encrypted; a key without passphrase is needed');
  let key: KeyObject;
  try {
    key = createPrivateKey(keyBlock);
  } catch (err) {
    throw new CertificateError(keyFile, `cannot parse private key (${(err as Error).message})`);
  }
  if (!x509.checkPrivateKey(key)) {
    throw new CertificateError(keyFile, `private key does not match the certificate in ${certFile}`);
  }
  const names = certNames(x509);
  if (names.length === 0)
    throw new CertificateError(certFile, 'certificate names no DNS host (no subjectAltName DNS entry or CN)');
  return {
    source: certFile,
    keyFile,
    // Only certificate blocks go to the TLS context: a combined file must not leak its key into the chain.
    certPem: certText.match(new RegExp(CERT_BLOCK.source, 'g'))!.join('\n') + '\n',
    keyPem: keyBlock + '\n',
    names,
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    fingerprint256: x509.fingerprint256,
    selfSigned,
  };
}

export async function loadPair(certFile: string, keyFile: string, selfSigned = false): Promise<LoadedCert> {
  const certText = await readText(certFile);
  const keyText = keyFile === certFile ? certText : await readText(keyFile);
  return parsePair(certFile, certText, keyFile, keyText, selfSigned);
}

/** A warning for certificates outside their validity period, or null. */
export function validityProblem(c: LoadedCert, now = new Date()): string | null {
  if (c.notAfter <= now)
    return `certificate: ${c.source}: expired on ${c.notAfter.toISOString()} (${c.names.join(', ')})`;
  if (c.notBefore > now)
    return `certificate: ${c.source}: not valid before ${c.notBefore.toISOString()} (${c.names.join(', ')})`;
  return null;
}
