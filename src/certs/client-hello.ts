// Reads the server_name (SNI, RFC 6066 §3) from a TLS ClientHello before TLS starts, so the server socket can be
// created with the right certificate from the outset.
//
// Why not just SNICallback: Node applies the callback's context by *adding* its certificate and key to the
// connection (SSL_use_certificate), and OpenSSL keeps one certificate per key type. When the initial context
// holds, say, an ECDSA certificate and the SNI one is RSA, both stay loaded and a TLS 1.3 client that prefers
// ECDSA signatures gets the initial (wrong) certificate. Choosing the context before the handshake avoids that.
import type net from 'node:net';

const MAX_HELLO = 64 * 1024;

/**
 * `undefined`: no SNI (or not TLS at all); `null`: need more bytes. Handles a ClientHello split over several records.
 */
export function parseServerName(buf: Buffer): string | undefined | null {
  // Collect the handshake bytes from as many records as it takes.
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1;
  for (let at = 0; ;) {
    if (at + 5 > buf.length) return null;
    if (buf[at] !== 0x16) return undefined; // not a handshake record
    const len = buf.readUInt16BE(at + 3);
    if (at + 5 + len > buf.length) return null;
    parts.push(buf.subarray(at + 5, at + 5 + len));
    have += len;
    at += 5 + len;
    if (need < 0 && have >= 4) {
      const hs = Buffer.concat(parts);
      if (hs[0] !== 0x01) return undefined; // not a ClientHello
      need = 4 + hs.readUIntBE(1, 3);
    }
    if (need >= 0 && have >= need) break;
  }
  return serverNameIn(Buffer.concat(parts));
}

function serverNameIn(hs: Buffer): string | undefined {
  try {
    let p = 4 + 2 + 32; // handshake header, legacy_version, random
    p += 1 + hs[p]; // session id
    p += 2 + hs.readUInt16BE(p); // cipher suites
    p += 1 + hs[p]; // compression methods
    if (p + 2 > hs.length) return undefined;
    const end = Math.min(hs.length, p + 2 + hs.readUInt16BE(p));
    p += 2;
    while (p + 4 <= end) {
      const type = hs.readUInt16BE(p);
      const len = hs.readUInt16BE(p + 2);
      p += 4;
      if (type === 0) {
        // ServerNameList: u16 length, then (u8 name_type, u16 length, name)*; host_name is type 0.
        let q = p + 2;
        while (q + 3 <= p + len) {
          const nameLen = hs.readUInt16BE(q + 1);
          if (hs[q] === 0) return hs.toString('ascii', q + 3, q + 3 + nameLen);
          q += 3 + nameLen;
        }
        return undefined;
      }
      p += len;
    }
  } catch {
    /* a truncated hello: treat as no SNI, the TLS layer will complain properly */
  }
  return undefined;
}

/**
 * Waits for the ClientHello on a plain socket, returns its SNI name and puts the bytes back (unshift) so a
 * TLSSocket wrapping `socket` next sees them. Resolves undefined on timeout, close, or a non-TLS first packet.
 */
export function peekServerName(socket: net.Socket, timeoutMs = 10_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (name: string | undefined) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (size > 0) socket.unshift(Buffer.concat(chunks));
      resolve(name);
    };
    const onData = (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      const r = parseServerName(chunks.length === 1 ? d : Buffer.concat(chunks));
      if (r !== null) done(r);
      else if (size >= MAX_HELLO) done(undefined);
    };
    const onClose = () => done(undefined);
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}
