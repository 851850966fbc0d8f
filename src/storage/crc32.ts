// CRC-32 (IEEE) for record checksums. node:zlib has crc32 from Node 20.15; older 20.x gets a table version.
import * as zlib from 'node:zlib';

let table: Uint32Array | undefined;

function tableCrc32(buf: Uint8Array, start: number, end: number): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const native = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of buf[start, end). */
export function crc32(buf: Buffer, start = 0, end = buf.length): number {
  if (native) return native(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0;
  return tableCrc32(buf, start, end);
}

export { tableCrc32 as crc32Portable };
