// A minimal raw XMPP client for replaying scansion scripts: it logs in with SASL PLAIN, binds a
// resource and then only queues what the server sends, so the script sees every stanza as sent.
// Two framings: RFC 7395 WebSocket (subprotocol "xmpp", one element per frame) and RFC 6120 TCP
// (one XML stream, no TLS: the test servers listen on loopback only).
import net from 'node:net';
import tls from 'node:tls';
import { StringDecoder } from 'node:string_decoder';
import { Element, parse as parseXml } from 'ltx';
import { SaxesParser } from 'saxes';
import WebSocket from 'ws';

const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
const NS_STREAM = 'http://etherx.jabber.org/streams';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
const NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session';
const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
/** A client that stops reading scripts' stanzas must not grow without bound. */
const MAX_QUEUE = 10_000;

export type Endpoint = { transport: 'websocket'; url: string } | { transport: 'tcp'; host: string; port: number };

export interface Credentials {
  /** JID as in the script (may carry a resource). */
  jid: string;
  password: string;
  /** Resource to request; undefined lets the server choose. */
  resource?: string;
}

/** Marks a frame that is stream plumbing rather than a stanza (open, close, features). */
const isLocal = (e: Element, name: string) => e.name === name || e.name.endsWith(':' + name);

export class TimeoutError extends Error {}

interface Framing {
  openStream(to: string): void;
  /** TCP only: switch the socket to TLS after <proceed/> (test servers use self-signed certificates). */
  startTls?(servername: string): Promise<void>;
  sendRaw(xml: string): void;
  closeStream(): void;
  destroy(): void;
}

export class XmppClient {
  fullJid = '';
  private queue: Element[] = [];
  private waiter: (() => void) | null = null;
  private closedReason: string | null = null;
  private framing: Framing | null = null;
  private readonly domain: string;
  private readonly local: string;

  constructor(
    private readonly creds: Credentials,
    private readonly endpoint: Endpoint,
  ) {
    const bare = creds.jid.split('/')[0];
    const at = bare.indexOf('@');
    this.local = at >= 0 ? bare.slice(0, at) : '';
    this.domain = at >= 0 ? bare.slice(at + 1) : bare;
  }

  get isClosed(): boolean {
    return this.closedReason !== null;
  }

  /** Connects, authenticates and binds; resolves once stanzas can flow. */
  async connect(timeoutMs: number): Promise<void> {
    this.framing =
      this.endpoint.transport === 'websocket'
        ? await this.openWebSocket(this.endpoint.url, timeoutMs)
        : await this.openTcp(this.endpoint.host, this.endpoint.port, timeoutMs);

    this.framing.openStream(this.domain);
    await this.expectFrame('open', timeoutMs);
    let features = await this.expectFrame('features', timeoutMs);
    // STARTTLS whenever a TCP server offers it, as real clients do.
    if (this.framing.startTls && features.getChild('starttls', NS_TLS)) {
      this.send(new Element('starttls', { xmlns: NS_TLS }));
      await this.expectFrame('proceed', timeoutMs);
      await this.framing.startTls(this.domain);
      this.framing.openStream(this.domain);
      await this.expectFrame('open', timeoutMs);
      features = await this.expectFrame('features', timeoutMs);
    }
    const mechs =
      features
        .getChild('mechanisms', NS_SASL)
        ?.getChildren('mechanism')
        .map((m) => m.text()) ?? [];
    if (!mechs.includes('PLAIN'))
      throw new Error(`server offers no SASL PLAIN (mechanisms: ${mechs.join(', ') || 'none'})`);
    const token = Buffer.from(`\0${this.local}\0${this.creds.password}`, 'utf8').toString('base64');
    this.send(new Element('auth', { xmlns: NS_SASL, mechanism: 'PLAIN' }).t(token));
    const outcome = await this.nextFrame(timeoutMs);
    if (!isLocal(outcome, 'success')) throw new Error(`SASL PLAIN failed: ${outcome.toString()}`);

    this.framing.openStream(this.domain);
    await this.expectFrame('open', timeoutMs);
    const features2 = await this.expectFrame('features', timeoutMs);
    if (!features2.getChild('bind', NS_BIND)) throw new Error('server offers no resource binding');

    const bind = new Element('bind', { xmlns: NS_BIND });
    if (this.creds.resource) bind.c('resource').t(this.creds.resource);
    const bound = await this.iq(new Element('iq', { type: 'set', id: 'scansion-bind' }).cnode(bind).root(), timeoutMs);
    const jid = bound.getChild('bind', NS_BIND)?.getChildText('jid');
    if (!jid) throw new Error(`bind result without a JID: ${bound.toString()}`);
    this.fullJid = jid;

    // RFC 3921 session establishment, only if the server still requires it.
    const session = features2.getChild('session', NS_SESSION);
    if (session && !session.getChild('optional')) {
      await this.iq(
        new Element('iq', { type: 'set', id: 'scansion-session' }).c('session', { xmlns: NS_SESSION }).root(),
        timeoutMs,
      );
    }
  }

  /** Sends a stanza; over WebSocket every top-level stanza carries xmlns="jabber:client" (RFC 7395). */
  send(stanza: Element): void {
    if (!this.framing) throw new Error('not connected');
    if (this.closedReason) throw new Error(`cannot send, connection closed: ${this.closedReason}`);
    if (this.endpoint.transport === 'websocket' && !stanza.attrs.xmlns) stanza.attrs.xmlns = 'jabber:client';
    this.framing.sendRaw(stanza.toString());
  }

  /** The next stanza the server sent (stream plumbing included), or an error after `timeoutMs`. */
  async nextFrame(timeoutMs: number): Promise<Element> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const head = this.queue.shift();
      if (head) return head;
      if (this.closedReason) throw new Error(`connection closed: ${this.closedReason}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new TimeoutError(`nothing received within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.waiter = null;
          resolve();
        }, left);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          resolve();
        };
      });
    }
  }

  /** Waits `ms` and returns whatever stanza arrived first, if any (for `receives: nothing`). */
  async pollNothing(ms: number): Promise<Element | undefined> {
    try {
      return await this.nextFrame(ms);
    } catch (err) {
      if (err instanceof TimeoutError) return undefined;
      // A closed connection delivers nothing more; that satisfies "nothing".
      return undefined;
    }
  }

  /** Closes the stream politely and waits (bounded) for the server to close its side. */
  async disconnect(timeoutMs: number): Promise<void> {
    if (!this.framing) return;
    if (!this.closedReason) {
      this.framing.closeStream();
      const deadline = Date.now() + timeoutMs;
      while (!this.closedReason && Date.now() < deadline) {
        try {
          const e = await this.nextFrame(deadline - Date.now());
          if (isLocal(e, 'close')) break;
        } catch {
          break;
        }
      }
    }
    this.destroy();
  }

  /** Drops the connection at once (cleanup after a failed script). */
  destroy(): void {
    this.framing?.destroy();
    this.markClosed('closed by client');
  }

  /** Unconsumed stanzas, for diagnostics. */
  pending(): Element[] {
    return [...this.queue];
  }

  private async iq(iq: Element, timeoutMs: number): Promise<Element> {
    const id = iq.attrs.id;
    this.send(iq);
    const reply = await this.nextFrame(timeoutMs);
    if (!isLocal(reply, 'iq') || reply.attrs.id !== id || reply.attrs.type !== 'result') {
      throw new Error(`expected iq result id=${id}, got ${reply.toString()}`);
    }
    return reply;
  }

  private async expectFrame(name: string, timeoutMs: number): Promise<Element> {
    const e = await this.nextFrame(timeoutMs);
    if (!isLocal(e, name)) throw new Error(`expected <${name}>, got ${e.toString()}`);
    return e;
  }

  private push(e: Element): void {
    if (this.queue.length >= MAX_QUEUE) {
      this.markClosed(`more than ${MAX_QUEUE} unread stanzas`);
      this.framing?.destroy();
      return;
    }
    this.queue.push(e);
    this.waiter?.();
  }

  private markClosed(reason: string): void {
    if (this.closedReason === null) this.closedReason = reason;
    this.waiter?.();
  }

  private openWebSocket(url: string, timeoutMs: number): Promise<Framing> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ['xmpp']);
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new TimeoutError(`WebSocket connect to ${url} timed out`));
      }, timeoutMs);
      ws.on('message', (data, isBinary) => {
        if (isBinary) {
          this.markClosed('binary WebSocket frame');
          ws.terminate();
          return;
        }
        try {
          this.push(parseXml(data.toString()));
        } catch (err) {
          this.markClosed(`unparsable frame: ${(err as Error).message}: ${data.toString().slice(0, 200)}`);
          ws.terminate();
        }
      });
      ws.on('close', (code, reason) =>
        this.markClosed(`WebSocket closed (${code}${reason.length ? ' ' + reason.toString() : ''})`),
      );
      ws.on('error', (err) => {
        clearTimeout(timer);
        this.markClosed(err.message);
        reject(err);
      });
      ws.on('open', () => {
        clearTimeout(timer);
        if (ws.protocol !== 'xmpp') {
          ws.terminate();
          reject(new Error(`server chose subprotocol "${ws.protocol}", not "xmpp"`));
          return;
        }
        resolve({
          openStream: (to) =>
            ws.send(new Element('open', { xmlns: NS_FRAMING, to, version: '1.0', 'xml:lang': 'en' }).toString()),
          sendRaw: (xml) => ws.send(xml),
          closeStream: () => ws.send(new Element('close', { xmlns: NS_FRAMING }).toString()),
          destroy: () => {
            if (ws.readyState === WebSocket.OPEN) ws.close();
            else ws.terminate();
          },
        });
      });
    });
  }

  private openTcp(host: string, port: number, timeoutMs: number): Promise<Framing> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port });
      let io: net.Socket | tls.TLSSocket = sock;
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new TimeoutError(`TCP connect to ${host}:${port} timed out`));
      }, timeoutMs);
      let parser = this.streamParser();
      const decoder = new StringDecoder('utf8'); // a character may straddle two reads
      const onData = (chunk: Buffer) => {
        try {
          parser.write(decoder.write(chunk));
        } catch (err) {
          this.markClosed(`XML error: ${(err as Error).message}`);
          io.destroy();
        }
      };
      sock.on('data', onData);
      sock.on('close', () => this.markClosed('TCP connection closed'));
      sock.on('error', (err) => {
        clearTimeout(timer);
        this.markClosed(err.message);
        reject(err);
      });
      sock.on('connect', () => {
        clearTimeout(timer);
        resolve({
          openStream: (to) => {
            parser = this.streamParser(); // a stream restart begins a new XML document
            io.write(
              `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAM}' ` +
                `to='${to}' version='1.0' xml:lang='en'>`,
            );
          },
          startTls: (servername) =>
            new Promise<void>((ok, fail) => {
              sock.off('data', onData);
              const secure = tls.connect({ socket: sock, servername, rejectUnauthorized: false });
              secure.once('secureConnect', () => ok());
              secure.once('error', (err) => {
                this.markClosed(`TLS: ${err.message}`);
                fail(err);
              });
              secure.on('data', onData);
              secure.on('close', () => this.markClosed('TLS connection closed'));
              io = secure;
            }),
          sendRaw: (xml) => {
            io.write(xml);
          },
          closeStream: () => {
            io.write('</stream:stream>');
          },
          destroy: () => {
            io.destroy();
          },
        });
      });
    });
  }

  /** Turns one XML stream into frames: a synthetic <open/>, then each top-level child, then <close/>. */
  private streamParser(): SaxesParser {
    const p = new SaxesParser();
    const stack: Element[] = [];
    p.on('opentag', (tag) => {
      const attrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(tag.attributes)) attrs[k] = String(v);
      if (stack.length === 0 && tag.name === 'stream:stream') {
        stack.push(new Element('open', attrs));
        this.push(new Element('open', attrs));
        return;
      }
      const e = new Element(tag.name, attrs);
      if (stack.length > 1) stack[stack.length - 1].cnode(e);
      stack.push(e);
    });
    p.on('text', (t) => {
      if (stack.length > 1) stack[stack.length - 1].t(t);
    });
    p.on('closetag', () => {
      const e = stack.pop();
      if (!e) return;
      if (stack.length === 1) {
        e.parent = null;
        this.push(e);
      } else if (stack.length === 0) this.push(new Element('close', {}));
    });
    p.on('error', (err) => {
      throw err;
    });
    return p;
  }
}
