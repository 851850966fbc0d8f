// WebSocket text frames written by the edge itself (RFC 6455 §5.2; server to client, so unmasked). A batch's
// frames for one socket are joined into one buffer and written with one call, where ws makes two stream writes per
// frame: the edge's time goes into the kernel's copy, not stream bookkeeping. ws still does everything else
// (handshake, reading, control frames, closing handshake).

/** Bytes a text frame with a payload of `len` bytes takes on the wire. */
export function frameLength(len: number): number {
  return len + (len < 126 ? 2 : len < 65536 ? 4 : 10);
}

/** One buffer holding a text frame for each payload; `total` is the sum of their frameLength(). */
export function joinTextFrames(payloads: readonly Buffer[], total: number): Buffer {
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (const p of payloads) {
    const n = p.length;
    out[o++] = 0x81; // FIN, text
    if (n < 126) out[o++] = n;
    else if (n < 65536) {
      out[o] = 126;
      out.writeUInt16BE(n, o + 1);
      o += 3;
    } else {
      out[o] = 127;
      out.writeUInt32BE(Math.floor(n / 2 ** 32), o + 1);
      out.writeUInt32BE(n >>> 0, o + 5);
      o += 9;
    }
    p.copy(out, o);
    o += n;
  }
  return out;
}
