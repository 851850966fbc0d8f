// How a viewer's stanzas travel: RFC 7395 WebSocket (one stanza per message) or XEP-0124/0206 BOSH (stanzas
// wrapped in <body/> over HTTP long polling, at most two requests in flight as with hold=1). Both hand the viewer
// one stanza string at a time and count the bytes they receive.
import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import * as x from './protocol.js';

export interface TransportEvents {
  onStanza(s: string): void;
  onError(kind: string): void;
  onClose(): void; // the server or the network ended the session
  onOpen?(): void; // the transport is up (WebSocket upgrade answered, BOSH session created)
}

export interface Transport {
  /** Opens the stream to `host` (WebSocket: connect and <open/>; BOSH: session creation request). */
  start(host: string): void;
  /** Stream restart after SASL success. */
  restart(host: string): void;
  send(s: string): void;
  /** Sends the given final stanzas, closes the stream, resolves when done (bounded by timeoutMs). */
  close(finalStanzas: string[], timeoutMs: number): Promise<void>;
  readonly open: boolean;
  payloadBytes: number; // cumulative, after inflate
  wireBytes(): number; // bytes read from sockets, with framing and HTTP headers
}

export class WsTransport implements Transport {
  private ws: WebSocket | undefined;
  payloadBytes = 0;
  private wire = 0;
  private corked = false;
  constructor(
    private readonly url: string,
    private readonly deflate: boolean,
    private readonly timeoutMs: number,
    private readonly ev: TransportEvents,
  ) {}

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  start(host: string): void {
    const ws = new WebSocket(this.url, 'xmpp', { perMessageDeflate: this.deflate, handshakeTimeout: this.timeoutMs });
    this.ws = ws;
    ws.on('open', () => {
      this.ev.onOpen?.();
      ws.send(x.open(host));
    });
    ws.on('message', (data: Buffer) => {
      this.payloadBytes += data.length;
      this.ev.onStanza(data.toString());
    });
    ws.on('error', (err: Error & { code?: string }) =>
      this.ev.onError('ws-error:' + (err.code ?? err.message.slice(0, 40))),
    );
    ws.on('close', () => {
      this.wire = (ws as unknown as { _socket?: { bytesRead?: number } })._socket?.bytesRead ?? 0;
      this.ev.onClose();
    });
  }

  restart(host: string): void {
    this.send(x.open(host));
  }

  send(s: string): void {
    const ws = this.ws;
    if (ws?.readyState !== WebSocket.OPEN) return;
    // What one viewer sends in one turn of the worker's loop (a vCard request for each occupant of a batch of
    // presences) leaves in one write: a syscall per stanza made the load generator, not the server, the limit of a
    // storm with vCards (half its CPU was writev). Over a real network TCP merges such back-to-back writes anyway.
    const socket = (ws as unknown as { _socket?: Socket })._socket;
    if (socket && !this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    ws.send(s);
  }

  wireBytes(): number {
    const live = (this.ws as unknown as { _socket?: { bytesRead?: number } } | undefined)?._socket?.bytesRead;
    return Math.max(this.wire, live ?? 0);
  }

  close(finalStanzas: string[], timeoutMs: number): Promise<void> {
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, timeoutMs);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (ws.readyState === WebSocket.OPEN) {
        for (const s of finalStanzas) ws.send(s);
        ws.send(x.close());
        ws.close(1000);
      } else ws.terminate();
    });
  }
}

const NS_BOSH = 'http://jabber.org/protocol/httpbind';

/** Top-level children of a BOSH <body/>, found by tag depth (servers escape '>' in attributes and text). */
export function bodyChildren(body: string): string[] {
  const out: string[] = [];
  const open = body.indexOf('>');
  if (open < 0 || body[open - 1] === '/') return out;
  let depth = 0;
  let start = -1;
  let i = open + 1;
  for (let guard = 0; guard < 1_000_000; guard++) {
    const lt = body.indexOf('<', i);
    if (lt < 0) break;
    const gt = body.indexOf('>', lt);
    if (gt < 0) break;
    const c = body[lt + 1];
    if (c === '/') {
      if (depth === 0) break; // </body>
      depth--;
      if (depth === 0) out.push(body.slice(start, gt + 1));
    } else if (c !== '?' && c !== '!') {
      if (depth === 0) start = lt;
      if (body[gt - 1] === '/') {
        if (depth === 0) out.push(body.slice(start, gt + 1));
      } else depth++;
    }
    i = gt + 1;
  }
  return out;
}

export class BoshTransport implements Transport {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 2 });
  private rid = Math.floor(Math.random() * 1e9);
  private sid: string | undefined;
  private queue: string[] = [];
  private inFlight = 0;
  private closed = false;
  private starting = false;
  payloadBytes = 0;
  private wire = 0;
  private readonly url: URL;

  constructor(
    url: string,
    private readonly timeoutMs: number,
    private readonly ev: TransportEvents,
  ) {
    this.url = new URL(url);
  }

  get open(): boolean {
    return !this.closed && this.sid !== undefined;
  }

  start(host: string): void {
    this.starting = true;
    this.post(
      `<body xmlns='${NS_BOSH}' rid='${this.rid++}' to='${host}' xml:lang='en' wait='60' hold='1' ver='1.6' ` +
        `xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh'/>`,
    );
  }

  restart(host: string): void {
    this.post(
      `<body xmlns='${NS_BOSH}' rid='${this.rid++}' sid='${this.sid}' to='${host}' xml:lang='en' xmpp:restart='true' xmlns:xmpp='urn:xmpp:xbosh'/>`,
    );
  }

  send(s: string): void {
    if (this.closed) return;
    this.queue.push(s);
    this.pump();
  }

  wireBytes(): number {
    return this.wire;
  }

  /** Keeps one request held by the server, and uses the second slot to send whatever is queued. */
  private pump(): void {
    if (this.closed || !this.sid) return;
    if (this.queue.length > 0 && this.inFlight < 2) {
      const payload = this.queue.join('');
      this.queue = [];
      this.post(`<body xmlns='${NS_BOSH}' rid='${this.rid++}' sid='${this.sid}'>${payload}</body>`);
    } else if (this.inFlight === 0) {
      this.post(`<body xmlns='${NS_BOSH}' rid='${this.rid++}' sid='${this.sid}'/>`);
    }
  }

  private post(body: string, onDone?: () => void): void {
    this.inFlight++;
    const req = request(
      {
        host: this.url.hostname,
        port: this.url.port,
        path: this.url.pathname,
        method: 'POST',
        agent: this.agent,
        headers: { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(body) },
        timeout: this.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          this.inFlight--;
          const text = Buffer.concat(chunks).toString();
          this.payloadBytes += text.length;
          // headers are not counted by Node; approximate them by the raw header lines
          this.wire += text.length + res.rawHeaders.reduce((s, h) => s + h.length + 2, 16);
          if (res.statusCode !== 200) {
            this.fail(`bosh-http-${res.statusCode}`);
            return;
          }
          this.onBody(text);
          onDone?.();
          this.pump();
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: Error & { code?: string }) => {
      this.inFlight--;
      if (!this.closed) this.fail('bosh-error:' + (err.code ?? err.message.slice(0, 40)));
    });
    req.end(body);
  }

  private onBody(text: string): void {
    const head = x.headOf(text);
    if (this.starting) {
      this.starting = false;
      this.sid = x.attrOf(head, 'sid');
      if (!this.sid) return this.fail('bosh-no-sid');
      this.ev.onOpen?.();
    }
    if (x.attrOf(head, 'type') === 'terminate') {
      if (!this.closed) this.fail('bosh-terminate:' + (x.attrOf(head, 'condition') ?? ''));
      return;
    }
    for (const s of bodyChildren(text)) {
      if (this.closed) return;
      this.ev.onStanza(s);
    }
  }

  private fail(kind: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ev.onError(kind);
    this.agent.destroy();
    this.ev.onClose();
  }

  close(finalStanzas: string[], timeoutMs: number): Promise<void> {
    if (this.closed || !this.sid) {
      this.closed = true;
      this.agent.destroy();
      return Promise.resolve();
    }
    this.closed = true;
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.agent.destroy();
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.post(
        `<body xmlns='${NS_BOSH}' rid='${this.rid++}' sid='${this.sid}' type='terminate'>${finalStanzas.join('')}</body>`,
        finish,
      );
    });
  }
}
