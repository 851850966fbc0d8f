// Is the peer's TLS certificate valid for the domain it claims? Needed for SASL EXTERNAL (RFC 6120 §6.4) and for
// secureAuth. Trust: the system's roots (Node's own check, `authorized`), plus extra CAs from the config that
// issued the peer's leaf directly (private deployments).
import { checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls';
import { X509Certificate as CryptoX509 } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export class TrustStore {
  constructor(private extra: CryptoX509[]) {}

  static async load(files: string[]): Promise<TrustStore> {
    const certs: CryptoX509[] = [];
    for (const f of files) {
      const pem = await readFile(f, 'utf8');
      for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
        certs.push(new CryptoX509(block));
    }
    return new TrustStore(certs);
  }

  /** True when the socket's peer certificate chains to a trusted root and names `domain`. */
  validFor(socket: TLSSocket, domain: string): boolean {
    const cert = socket.getPeerCertificate(true) as PeerCertificate & { raw?: Buffer };
    if (!cert || !cert.raw) return false;
    if (checkServerIdentity(domain, cert) !== undefined) return false;
    if (socket.authorized) return true;
    if (this.extra.length === 0) return false;
    let leaf: CryptoX509;
    try {
      leaf = new CryptoX509(cert.raw);
    } catch {
      return false;
    }
    const now = Date.now();
    if (Date.parse(leaf.validFrom) > now || Date.parse(leaf.validTo) < now) return false;
    return this.extra.some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
  }
}
