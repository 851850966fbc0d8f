// A hand-driven WebSocket S2S peer that behaves like livechat's Prosody on the wire: it can send its client frames
// unmasked (as livechat does) or masked, and opens with whatever first frame the test writes. Server frames are
// read as they come (servers never mask). Test-only: it writes exactly the bytes an attack or a quirk needs.
import net from 'node:net';
import { randomBytes, createHash } from 'node:crypto';

export interface RawWsS2s {
  /** Sends one text frame. */
  send(text: string, opts?: { masked?: boolean }): void;
  /** Writes raw bytes (a frame cut into pieces, say). */
  writeRaw(b: Buffer): void;
  /** Sends a ping control frame. */
  ping(opts?: { masked?: boolean }): void;
  frames: string[];
  /** Resolves with all frames so far joined, once one matches `re`. */
  waitFor(re: RegExp, ms?: number): Promise<string>;
  /** Resolves with the close code once the server closed (close frame or TCP close). */
  closed: Promise<number | null>;
  pongs: number;
  destroy(): void;
}

export function frame(opcode: number, payload: Buffer, masked: boolean): Buffer {
  const len = payload.length;
  const ext = len < 126 ? Buffer.alloc(0) : len < 65536 ? Buffer.alloc(2) : Buffer.alloc(8);
  if (len >= 126 && len < 65536) ext.writeUInt16BE(len);
  else if (len >= 65536) ext.writeBigUInt64BE(BigInt(len));
  const head = Buffer.from([0x80 | opcode, (masked ? 0x80 : 0) | (len < 126 ? len : len < 65536 ? 126 : 127)]);
  if (!masked) return Buffer.concat([head, ext, payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i % 4];
  return Buffer.concat([head, ext, key, body]);
}

export function rawWsS2s(
  url: string,
  opts: { protocol?: string | null; headers?: Record<string, string> } = {},
): Promise<RawWsS2s> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port) });
    const key = randomBytes(16).toString('base64');
    const protocol = opts.protocol === undefined ? 'xmpp' : opts.protocol;
    s.once('error', reject);
    s.on('connect', () => {
      const lines = [
        `GET ${u.pathname} HTTP/1.1`,
        `Host: ${u.host}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        'Sec-WebSocket-Version: 13',
        ...(protocol ? [`Sec-WebSocket-Protocol: ${protocol}`] : []),
        ...Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
      ];
      s.write(lines.join('\r\n') + '\r\n\r\n');
    });
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const frames: string[] = [];
    const waiters: Array<() => void> = [];
    let closeCode: number | null = null;
    let resolveClosed!: (c: number | null) => void;
    const closed = new Promise<number | null>((r) => {
      resolveClosed = r;
    });
    s.on('close', () => resolveClosed(closeCode));
    const api: RawWsS2s = {
      frames,
      pongs: 0,
      send: (text, o = {}) => {
        s.write(frame(1, Buffer.from(text, 'utf8'), o.masked ?? false));
      },
      writeRaw: (b) => {
        s.write(b);
      },
      ping: (o = {}) => {
        s.write(frame(9, Buffer.alloc(0), o.masked ?? false));
      },
      closed,
      destroy: () => s.destroy(),
      waitFor: (re, ms = 10000) =>
        new Promise((res, rej) => {
          const check = () => {
            if (frames.some((f) => re.test(f))) {
              waiters.splice(waiters.indexOf(check), 1);
              clearTimeout(t);
              res(frames.join('\n'));
            }
          };
          const t = setTimeout(() => {
            waiters.splice(waiters.indexOf(check), 1);
            rej(new Error(`timed out waiting for ${re} in: ${frames.join('\n').slice(-800)}`));
          }, ms);
          waiters.push(check);
          check();
        }),
    };
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        buf = buf.subarray(end + 4);
        const accept = createHash('sha1')
          .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
          .digest('base64');
        if (!/^HTTP\/1\.1 101/.test(head) || !head.includes(accept)) {
          s.destroy();
          return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        }
        upgraded = true;
        resolve(api);
      }
      while (buf.length >= 2) {
        const len7 = buf[1] & 0x7f;
        const extLen = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
        if (buf.length < 2 + extLen) return;
        const len = len7 === 126 ? buf.readUInt16BE(2) : len7 === 127 ? Number(buf.readBigUInt64BE(2)) : len7;
        if (buf.length < 2 + extLen + len) return;
        const opcode = buf[0] & 0x0f;
        const payload = buf.subarray(2 + extLen, 2 + extLen + len);
        buf = buf.subarray(2 + extLen + len);
        if (opcode === 1) frames.push(payload.toString('utf8'));
        else if (opcode === 8) closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        else if (opcode === 10) api.pongs++;
        for (const w of [...waiters]) w();
      }
    });
  });
}

export const legacyHeader = (from: string, to: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' to='${to}' from='${from}' version='1.0'>`;

export const openFrame = (from: string, to: string) =>
  `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing-server' from='${from}' to='${to}' version='1.0'/>`;
