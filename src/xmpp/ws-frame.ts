// RFC 6455 §5.2: a whole, unmasked text frame as a server sends it, header and payload in one buffer, so that a
// fan-out delivery is one socket write instead of ws's two (header, then payload) and one buffer instead of two.

/** The frame header's size for a payload of `len` bytes. */
export function frameHeaderSize(len: number): number {
  return len < 126 ? 2 : len < 0x10000 ? 4 : 10;
}

/** Writes a text frame's header for a payload of `len` bytes at `at`; returns where the payload starts. */
export function writeFrameHeader(buf: Buffer, at: number, len: number): number {
  buf[at] = 0x81; // FIN, opcode 1 (text)
  if (len < 126) {
    buf[at + 1] = len;
    return at + 2;
  }
  if (len < 0x10000) {
    buf[at + 1] = 126;
    buf[at + 2] = len >>> 8;
    buf[at + 3] = len & 0xff;
    return at + 4;
  }
  buf[at + 1] = 127;
  buf.writeUInt32BE(Math.floor(len / 0x100000000), at + 2);
  buf.writeUInt32BE(len >>> 0, at + 6);
  return at + 10;
}

/** The frame for one text message. */
export function textFrame(text: string): Buffer {
  const len = Buffer.byteLength(text);
  const buf = Buffer.allocUnsafe(frameHeaderSize(len) + len);
  buf.write(text, writeFrameHeader(buf, 0, len), 'utf8');
  return buf;
}

/** The frame for a text message given as three runs of UTF-8 (copied, not decoded). */
export function spliceFrame(a: Buffer, b: Buffer, c: Buffer): Buffer {
  const len = a.length + b.length + c.length;
  const buf = Buffer.allocUnsafe(frameHeaderSize(len) + len);
  let at = writeFrameHeader(buf, 0, len);
  buf.set(a, at);
  buf.set(b, (at += a.length));
  buf.set(c, at + b.length);
  return buf;
}
