// livechat's Prosody sends its client frames unmasked (RFC 6455 §5.1 says a server must then fail the connection,
// and `ws` does, with 1002). Between the socket and `ws` sits this pass-through that gives every unmasked frame an
// all-zero masking key: XOR with zero leaves the payload as is, so only frame headers are rewritten and `ws` keeps
// doing all of the WebSocket protocol. Masked frames pass unchanged.
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

const ZERO_KEY = Buffer.alloc(4);

export class UnmaskedFrameAdapter extends Duplex {
  /** Frames that arrived without a mask (for logs and tests). */
  unmaskedFrames = 0;
  private header: Buffer = Buffer.alloc(0);
  /** Payload bytes of the current frame still to pass through; -1 while reading a header. */
  private payloadLeft = -1;

  constructor(readonly raw: Socket) {
    super({ allowHalfOpen: false });
    raw.on('data', (chunk: Buffer) => {
      const out = this.rewrite(chunk);
      if (out.length && !this.push(out)) raw.pause();
    });
    raw.on('end', () => this.push(null));
    raw.on('close', () => this.destroy());
    raw.on('error', (err) => this.destroy(err));
  }

  get remoteAddress(): string | undefined {
    return this.raw.remoteAddress;
  }
  setNoDelay(on?: boolean): this {
    this.raw.setNoDelay(on);
    return this;
  }
  setTimeout(ms: number): this {
    this.raw.setTimeout(ms);
    return this;
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.raw.write(chunk, cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.raw.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.raw.write(chunks[i].chunk);
    this.raw.write(chunks[chunks.length - 1].chunk, cb);
    this.raw.uncork();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.raw.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.raw.destroy();
    cb(err);
  }

  /** Bytes read along with the upgrade request (`head`) go through the same rewriting. */
  adaptHead(head: Buffer): Buffer {
    return head.length ? this.rewrite(head) : head;
  }

  /** Walks frame boundaries in `chunk`, adding a zero key to unmasked headers. */
  private rewrite(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.payloadLeft > 0) {
        const n = Math.min(this.payloadLeft, chunk.length - pos);
        out.push(chunk.subarray(pos, pos + n));
        this.payloadLeft -= n;
        pos += n;
        continue;
      }
      // Reading a header: gather bytes until its full length is known and present.
      const need = this.headerLength(chunk, pos);
      const take = Math.min(need - this.header.length, chunk.length - pos);
      this.header = Buffer.concat([this.header, chunk.subarray(pos, pos + take)]);
      pos += take;
      if (this.header.length < need || this.headerLength(Buffer.alloc(0), 0) !== need) continue;
      this.emitHeader(out);
    }
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** Header size so far knowable from the gathered bytes plus `chunk[pos..]` (at least 2). */
  private headerLength(chunk: Buffer, pos: number): number {
    const b1 = this.header.length >= 2 ? this.header[1] : chunk[pos + 1 - this.header.length];
    if (b1 === undefined) return 2;
    const len7 = b1 & 0x7f;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
  }

  private emitHeader(out: Buffer[]): void {
    const h = this.header;
    this.header = Buffer.alloc(0);
    const len7 = h[1] & 0x7f;
    let payload = len7;
    if (len7 === 126) payload = h.readUInt16BE(2);
    else if (len7 === 127) payload = Number(h.readBigUInt64BE(2));
    this.payloadLeft = payload;
    if (h[1] & 0x80) {
      out.push(h);
      return;
    }
    this.unmaskedFrames++;
    h[1] |= 0x80;
    out.push(h, ZERO_KEY);
  }
}
