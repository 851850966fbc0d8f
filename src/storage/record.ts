// On-disk record format of archive segments. Each record is framed so a torn write is always detectable:
//   u32 LE payload length | u32 LE CRC-32 of payload | payload
// A message payload:  u8 kind=1 | f64 seq | f64 ts | u8 idLen id | u16 nick | u16 occupantId | u16 realJid | u32 xml
// A retraction payload (retractions.log): u8 kind=2 | f64 seq | u32 xml   (the tombstone that replaces seq)
// Strings are UTF-8 with the given length prefix. A zero-length or oversized payload is invalid, so a tail of
// zeros (what some filesystems leave after a power cut) is rejected like any other torn record.
import { crc32 } from './crc32.js';

export const HEADER = 8;
export const MAX_PAYLOAD = 4 * 1024 * 1024;
const KIND_MESSAGE = 1;
const KIND_RETRACTION = 2;

export interface StoredRecord {
  seq: number;
  ts: number;
  id: string;
  nick: string;
  occupantId?: string;
  realJid?: string;
  xml: string;
}

export interface RetractionRecord {
  seq: number;
  xml: string;
}

function checkLen(n: number, max: number, what: string): void {
  if (n > max) throw new RangeError(`archive record: ${what} too long (${n} bytes, max ${max})`);
}

export function encodeMessage(r: StoredRecord): Buffer {
  const idLen = Buffer.byteLength(r.id, 'latin1');
  const nickLen = Buffer.byteLength(r.nick);
  const occLen = r.occupantId ? Buffer.byteLength(r.occupantId) : 0;
  const jidLen = r.realJid ? Buffer.byteLength(r.realJid) : 0;
  const xmlLen = Buffer.byteLength(r.xml);
  checkLen(idLen, 0xff, 'id');
  checkLen(nickLen, 0xffff, 'nick');
  checkLen(occLen, 0xffff, 'occupant-id');
  checkLen(jidLen, 0xffff, 'real JID');
  const payload = 1 + 8 + 8 + 1 + idLen + 2 + nickLen + 2 + occLen + 2 + jidLen + 4 + xmlLen;
  checkLen(payload, MAX_PAYLOAD, 'record');
  const buf = Buffer.allocUnsafe(HEADER + payload);
  let o = HEADER;
  buf[o++] = KIND_MESSAGE;
  buf.writeDoubleLE(r.seq, o);
  o += 8;
  buf.writeDoubleLE(r.ts, o);
  o += 8;
  buf[o++] = idLen;
  o += buf.write(r.id, o, 'latin1');
  buf.writeUInt16LE(nickLen, o);
  o += 2;
  o += buf.write(r.nick, o);
  buf.writeUInt16LE(occLen, o);
  o += 2;
  if (occLen) o += buf.write(r.occupantId!, o);
  buf.writeUInt16LE(jidLen, o);
  o += 2;
  if (jidLen) o += buf.write(r.realJid!, o);
  buf.writeUInt32LE(xmlLen, o);
  o += 4;
  buf.write(r.xml, o);
  buf.writeUInt32LE(payload, 0);
  buf.writeUInt32LE(crc32(buf, HEADER, HEADER + payload), 4);
  return buf;
}

export function encodeRetraction(r: RetractionRecord): Buffer {
  const xmlLen = Buffer.byteLength(r.xml);
  const payload = 1 + 8 + 4 + xmlLen;
  checkLen(payload, MAX_PAYLOAD, 'record');
  const buf = Buffer.allocUnsafe(HEADER + payload);
  let o = HEADER;
  buf[o++] = KIND_RETRACTION;
  buf.writeDoubleLE(r.seq, o);
  o += 8;
  buf.writeUInt32LE(xmlLen, o);
  o += 4;
  buf.write(r.xml, o);
  buf.writeUInt32LE(payload, 0);
  buf.writeUInt32LE(crc32(buf, HEADER, HEADER + payload), 4);
  return buf;
}

/**
 * Length of the valid record starting at `off`, or 0 when the bytes there are not a whole, intact record
 * (short read, bad length, bad checksum).
 */
export function validRecordLength(buf: Buffer, off: number, end = buf.length): number {
  if (end - off < HEADER) return 0;
  const len = buf.readUInt32LE(off);
  if (len === 0 || len > MAX_PAYLOAD || end - off - HEADER < len) return 0;
  if (crc32(buf, off + HEADER, off + HEADER + len) !== buf.readUInt32LE(off + 4)) return 0;
  return HEADER + len;
}

/** Decodes a message record whose frame was already validated (or read from a region known to be intact). */
export function decodeMessage(buf: Buffer, off: number): StoredRecord {
  const len = buf.readUInt32LE(off);
  let o = off + HEADER;
  const end = o + len;
  if (buf[o++] !== KIND_MESSAGE) throw new Error('archive record: not a message record');
  const seq = buf.readDoubleLE(o);
  o += 8;
  const ts = buf.readDoubleLE(o);
  o += 8;
  const idLen = buf[o++];
  const id = buf.toString('latin1', o, o + idLen);
  o += idLen;
  const nickLen = buf.readUInt16LE(o);
  o += 2;
  const nick = buf.toString('utf8', o, o + nickLen);
  o += nickLen;
  const occLen = buf.readUInt16LE(o);
  o += 2;
  const occupantId = occLen ? buf.toString('utf8', o, o + occLen) : undefined;
  o += occLen;
  const jidLen = buf.readUInt16LE(o);
  o += 2;
  const realJid = jidLen ? buf.toString('utf8', o, o + jidLen) : undefined;
  o += jidLen;
  const xmlLen = buf.readUInt32LE(o);
  o += 4;
  if (o + xmlLen !== end) throw new Error('archive record: inconsistent lengths');
  const xml = buf.toString('utf8', o, o + xmlLen);
  return { seq, ts, id, nick, occupantId, realJid, xml };
}

export function decodeRetraction(buf: Buffer, off: number): RetractionRecord {
  let o = off + HEADER;
  if (buf[o++] !== KIND_RETRACTION) throw new Error('archive record: not a retraction record');
  const seq = buf.readDoubleLE(o);
  o += 8;
  const xmlLen = buf.readUInt32LE(o);
  o += 4;
  return { seq, xml: buf.toString('utf8', o, o + xmlLen) };
}

/** Reads only seq and ts of a message record (for index building without string decoding). */
export function peekSeqTs(buf: Buffer, off: number): [number, number] {
  return [buf.readDoubleLE(off + HEADER + 1), buf.readDoubleLE(off + HEADER + 9)];
}
