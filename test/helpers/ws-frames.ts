// Reading what the server wrote to a socket as WebSocket frames (RFC 6455 §5.2, server to client: unmasked).
import * as assert from 'uvu/assert';

/** The payloads of the unmasked text frames in `bytes`; fails on anything else (partial frame, other opcode). */
export function readFrames(bytes: Buffer): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    assert.is(bytes[at], 0x81, `frame at ${at} is not a whole text frame`);
    let len = bytes[at + 1]!;
    let start = at + 2;
    if (len === 126) {
      len = bytes.readUInt16BE(at + 2);
      start = at + 4;
    } else if (len === 127) {
      len = Number(bytes.readBigUInt64BE(at + 2));
      start = at + 10;
    }
    assert.ok(start + len <= bytes.length, 'a frame runs past the write');
    out.push(bytes.subarray(start, start + len).toString('utf8'));
    at = start + len;
  }
  return out;
}
