// RFC 6455 §5.2: a whole, unmasked text frame as a server sends it, header and payload in one buffer, so that a
// fan-out delivery is one socket write instead of ws's two (header, then payload) and one buffer instead of two.

/** The frame for one text message. */
export function textFrame(text: string): Buffer {
  const len = Buffer.byteLength(text);
  const head = len < 126 ? 2 : len < 0x10000 ? 4 : 10;
  const buf = Buffer.allocUnsafe(head + len);
  buf[0] = 0x81; // FIN, opcode 1 (text)
  if (len < 126) buf[1] = len;
  else if (len < 0x10000) {
    buf[1] = 126;
    buf.writeUInt16BE(len, 2);
  } else {
    buf[1] = 127;
    buf.writeUInt32BE(Math.floor(len / 0x100000000), 2);
    buf.writeUInt32BE(len >>> 0, 6);
  }
  buf.write(text, head, 'utf8');
  return buf;
}
