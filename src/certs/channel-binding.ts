// Channel-binding data for SCRAM-*-PLUS (RFC 5802 §6, RFC 9266, RFC 5929), from either end of a TLS socket.
//   tls-exporter (RFC 9266): TLS 1.3 only. RFC 9266 also allows it on TLS 1.2 with the extended master secret
//     (RFC 7627), but Node does not tell whether EMS was negotiated, so we do not offer it there.
//   tls-server-end-point (RFC 5929 §4.1): hash of the server's certificate, with the hash of its signature
//     algorithm, SHA-256 when that is MD5 or SHA-1, none for algorithms without a single hash (Ed25519/Ed448).
//   tls-unique (RFC 5929 §3.1): the first Finished message of the latest handshake; defined for TLS ≤ 1.2 only.
//     On TLS 1.3, OpenSSL-based clients (Python's ssl, hence slixmpp) still send it, computed as the client's
//     Finished of a full handshake; we accept that value too: it is unique to the connection, so the login stays
//     bound to it, and refusing it would lock those clients out of SCRAM-PLUS.
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

export type ChannelBindingType = 'tls-exporter' | 'tls-server-end-point' | 'tls-unique';
export type ChannelBindings = Partial<Record<ChannelBindingType, Buffer>>;

/**
 * The bindings available on an established TLS socket. `side` is which end `socket` is: the server's socket
 * (what the XMPP server holds) or a client's (for tests and the S2S dialer).
 */
export function channelBindings(socket: TLSSocket, side: 'server' | 'client' = 'server'): ChannelBindings {
  const out: ChannelBindings = {};
  const protocol = socket.getProtocol();
  if (protocol === 'TLSv1.3') {
    out['tls-exporter'] = socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
    const clientFinished = side === 'client' ? socket.getFinished() : socket.getPeerFinished();
    if (clientFinished && !socket.isSessionReused()) out['tls-unique'] = clientFinished;
  } else if (protocol === 'TLSv1.2') {
    // In a full handshake the client's Finished comes first, in a resumed one the server's.
    const clientFirst = !socket.isSessionReused();
    const mineFirst = clientFirst === (side === 'client');
    const finished = mineFirst ? socket.getFinished() : socket.getPeerFinished();
    if (finished) out['tls-unique'] = finished;
  }
  // getCertificate()/getPeerCertificate() rather than the X509Certificate getters: in Node 20 a client's
  // getPeerX509Certificate() leaves later peer-certificate calls on that socket empty.
  const cert = (side === 'server' ? socket.getCertificate() : socket.getPeerCertificate()) as { raw?: Buffer } | null;
  if (cert?.raw) {
    const hash = endPointHash(cert.raw);
    if (hash) out['tls-server-end-point'] = createHash(hash).update(cert.raw).digest();
  }
  return out;
}

// Signature algorithm OIDs → hash for tls-server-end-point.
const SIG_HASH: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'sha256', // md5WithRSA → SHA-256 per RFC 5929
  '1.2.840.113549.1.1.5': 'sha256', // sha1WithRSA → SHA-256 per RFC 5929
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha256', // ecdsa-with-SHA1
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.10040.4.3': 'sha256', // dsa-with-SHA1
  '2.16.840.1.101.3.4.3.2': 'sha256', // dsa-with-SHA256
};
const RSA_PSS = '1.2.840.113549.1.1.10';
const DIGEST_HASH: Record<string, string> = {
  '1.3.14.3.2.26': 'sha256', // SHA-1 → SHA-256
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** The hash RFC 5929 §4.1 picks for a DER certificate, or undefined when it defines none (or the DER is odd). */
export function endPointHash(der: Buffer): string | undefined {
  try {
    const cert = children(der, tlv(der, 0));
    const sigAlg = children(der, cert[1]);
    const oid = oidString(der, sigAlg[0]);
    if (oid !== RSA_PSS) return SIG_HASH[oid];
    // RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] AlgorithmIdentifier DEFAULT sha1, … }
    const params = sigAlg[1] ? children(der, sigAlg[1]) : [];
    const hashField = params.find((t) => t.tag === 0xa0);
    if (!hashField) return 'sha256';
    const algId = children(der, children(der, hashField)[0]);
    return DIGEST_HASH[oidString(der, algId[0])];
  } catch {
    return undefined;
  }
}

// A just-enough DER reader: tag, content start, content end.
interface Tlv {
  tag: number;
  start: number;
  end: number;
}

function tlv(buf: Buffer, at: number): Tlv {
  const tag = buf[at];
  let len = buf[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i];
    start += n;
  }
  if (tag === undefined || start + len > buf.length) throw new Error('truncated DER');
  return { tag, start, end: start + len };
}

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end && out.length < 64;) {
    const t = tlv(buf, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

function oidString(buf: Buffer, t: Tlv): string {
  if (t.tag !== 0x06) throw new Error('not an OID');
  const parts: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    v = v * 128 + (buf[i] & 0x7f);
    if (!(buf[i] & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}
