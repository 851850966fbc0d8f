// RFC 6455 §5.2: the header of a whole, unmasked text frame as a server sends it, written by the server's own
// held-frame buffers (write-coalescing.ts) in front of each payload rather than by ws, a write per frame.

/** The size in UTF-8 of a run of a frame's payload: bytes as they are, text as it will be encoded. */
export function runBytes(run: Buffer | string): number {
  return typeof run === 'string' ? Buffer.byteLength(run) : run.length;
}

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
