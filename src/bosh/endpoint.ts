// The BOSH HTTP endpoint (XEP-0124/0206): POST bodies to sessions by sid, CORS for pages embedded elsewhere, a small
// page for GET. Each BOSH session is a StreamTransport carrying an ordinary c2s session, the same one WebSocket uses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomString } from '../xmpp/random.js';
import type { ServerConfig } from '../config.js';
import type { Logger } from '../log.js';
import { escapeXMLText } from '../xmpp/xml.js';
import { validateBosh, type BoshConfig } from './config.js';
import {
  BindingError,
  compareVersions,
  parseBody,
  terminateBody,
  type BindingCondition,
  type RequestBody,
} from './body.js';
import { BoshSession, writeBody } from './session.js';
import { WriteCoalescer } from '../xmpp/write-coalescing.js';
import { requestPath } from '../http/request-path.js';
import { plainAddress } from '../http/client-address.js';

export interface BoshEndpoint {
  /** Handles a request for the BOSH path (any path with pathOverride); false when the request is not ours. */
  handle(req: IncomingMessage, res: ServerResponse, pathOverride?: boolean): boolean;
  /** Live BOSH sessions. */
  readonly sessionCount: number;
  readonly config: BoshConfig;
  /** Ends every session (system-shutdown) and stops all timers. */
  close(): void;
}

export interface BoshEndpointOptions {
  config: ServerConfig;
  log: Logger;
  /** Starts the c2s session on a new transport (XmppServer.acceptTransport); must set `t.handler`. */
  accept(t: BoshSession): void;
  /** Whether a new session from this address is within its connection rate (refused with policy-violation). */
  admit?(address: string): boolean;
  /** The validated `bosh` section; defaults to validating config.modules.bosh. */
  bosh?: BoshConfig;
  /** The client's address (behind trusted proxies); defaults to the socket's peer. */
  addressOf?(req: IncomingMessage): string;
  /**
   * The server's write coalescer: a room's fan-out to a busy session waits for its window (BoshSessionParams), or for
   * bosh.pushIntervalMs when that is longer.
   */
  coalescer?: WriteCoalescer;
}

const DEFAULT_CONTENT_TYPE = 'text/xml; charset=utf-8';
const SUPPORTED_VER = '1.11';
const MAX_RID = Number.MAX_SAFE_INTEGER;
// 'content' becomes a response header: only plain media types with an optional charset.
const CONTENT_RE = /^(text\/(xml|html|plain)|application\/xml)(;\s*charset=[A-Za-z0-9._-]{1,40})?$/i;
// The sid of a request that cannot be parsed, read from its first start tag, so the session it names ends too.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const SID_PEEK = /^(?:[^<]|<[?!][^>]*>)*<[A-Za-z_][^>]*?\ssid\s*=\s*(['"])([^'"]{1,64})\1/;

export function createBoshEndpoint(opts: BoshEndpointOptions): BoshEndpoint {
  const cfg = opts.bosh ?? validateBosh(opts.config.modules.bosh);
  const { log } = opts;
  const path = opts.config.http.boshPath;
  const maxBody = cfg.maxBodyBytes || opts.config.limits.maxStanzaSize;
  const sessions = new Map<string, BoshSession>();
  let closed = false;
  const coalescer = pacingCoalescer(cfg, opts.config, opts.coalescer);

  // CORS, given to writeHead with each response's own headers as name, value, name, value: set beforehand with
  // setHeader, they put every response on Node's slower header path (a header table per response), the largest
  // allocation of a busy BOSH room. A browser reads the allowed methods, headers and max age only from the preflight
  // (OPTIONS) answer; every other answer needs only the allowed origin, which saves ~110 bytes per response.
  const cors: readonly string[] = cfg.cors ? ['Access-Control-Allow-Origin', '*'] : [];
  const preflight: readonly string[] = cfg.cors
    ? [
        ...cors,
        'Access-Control-Allow-Methods',
        'POST, OPTIONS, GET',
        'Access-Control-Allow-Headers',
        'Content-Type',
        'Access-Control-Max-Age',
        '86400',
      ]
    : [];

  /** A terminate response outside any session (unknown sid, unreadable request). */
  const refuse = (res: ServerResponse, condition: BindingCondition, extra: Record<string, string> = {}) => {
    if (res.writableEnded || res.destroyed) return;
    writeBody(res, 200, terminateBody(condition), DEFAULT_CONTENT_TYPE, cors, extra);
  };

  /** A refused request that names a live session ends that session too: "terminate" means terminated. */
  const refuseWithSession = (
    res: ServerResponse,
    condition: BindingCondition,
    sid: string | undefined,
    extra?: Record<string, string>,
  ) => {
    const s = sid ? sessions.get(sid) : undefined;
    if (s) {
      if (extra) for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
      s.fail(condition, res);
    } else {
      refuse(res, condition, extra);
    }
  };

  const create = (body: RequestBody, req: IncomingMessage, res: ServerResponse) => {
    const a = body.attrs;
    const rid = parseRid(a.rid);
    if (rid === null) return refuse(res, 'bad-request');
    if (!a.to) return refuse(res, 'improper-addressing');
    if (closed) return refuse(res, 'system-shutdown');
    if (sessions.size >= cfg.maxSessions) {
      log.warn(`bosh: ${sessions.size} sessions, refusing a new one`);
      return refuse(res, 'policy-violation');
    }
    const address = opts.addressOf?.(req) ?? plainAddress(req.socket.remoteAddress ?? 'unknown');
    if (opts.admit && !opts.admit(address)) return refuse(res, 'policy-violation');
    const content = a.content && CONTENT_RE.test(a.content) ? a.content : DEFAULT_CONTENT_TYPE;
    // §7.1: the manager may lower wait and hold, never raise them.
    const wait = clamp(a.wait, 0, cfg.maxWait, cfg.maxWait);
    // wait='0' asks for immediate answers: that is a polling session whatever 'hold' says (§12).
    const hold = wait === 0 ? 0 : clamp(a.hold, 0, cfg.maxHold, Math.min(1, cfg.maxHold));
    const polling = hold === 0;
    const ver = a.ver && compareVersions(a.ver, SUPPORTED_VER) < 0 ? a.ver : SUPPORTED_VER;
    const sid = randomString(18, 'base64url');
    const session = new BoshSession({
      sid,
      remoteAddress: address,
      secure: opts.config.http.considerSecure,
      wait,
      hold,
      requests: Math.max(2, hold + 1),
      // §12: polling sessions get a longer inactivity period, by more than the polling interval.
      inactivity: cfg.inactivity + (polling ? cfg.polling + 1 : 0),
      polling: cfg.polling,
      ver,
      contentType: content,
      legacy: a.ver === undefined,
      acks: a.ack === '1',
      maxBufferedBytes: opts.config.limits.maxSendBufferBytes * 2,
      headers: cors,
      coalescer,
      log,
      onGone: (s) => {
        if (sessions.get(s.sid) === s) sessions.delete(s.sid);
      },
    });
    sessions.set(sid, session);
    opts.accept(session);
    log.debug(`bosh ${sid}: new session from ${session.remoteAddress} (wait ${wait}, hold ${hold})`);
    session.start(rid, a, res);
  };

  const dispatch = (text: string, req: IncomingMessage, res: ServerResponse) => {
    let body: RequestBody;
    try {
      body = parseBody(text, maxBody);
    } catch (err) {
      const condition = err instanceof BindingError ? err.condition : 'bad-request';
      log.debug(`bosh: refused a request body (${(err as Error).message})`);
      return refuseWithSession(res, condition, SID_PEEK.exec(text.slice(0, 2048))?.[2]);
    }
    const sid = body.attrs.sid;
    if (sid === undefined) return create(body, req, res);
    const session = sessions.get(sid);
    if (!session) return refuse(res, 'item-not-found');
    const rid = parseRid(body.attrs.rid);
    if (rid === null) return session.fail('bad-request', res);
    session.request(rid, body.attrs, body.payloads, res);
  };

  const post = (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length']);
    const tooLarge = (peek: string) => {
      // The rest of the body is not read: the connection goes away with the response.
      refuseWithSession(res, 'policy-violation', SID_PEEK.exec(peek)?.[2], { Connection: 'close' });
      req.removeAllListeners('data');
      req.resume();
    };
    if (Number.isFinite(declared) && declared > maxBody) {
      let peeked = false;
      req.once('data', (c: Buffer) => {
        if (!peeked) {
          peeked = true;
          tooLarge(c.subarray(0, 2048).toString('utf8'));
        }
      });
      // A client that sends nothing after its headers still gets the answer.
      setTimeout(() => {
        if (!peeked) {
          peeked = true;
          tooLarge('');
        }
      }, 200).unref();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > maxBody) {
        over = true;
        tooLarge(
          Buffer.concat([...chunks, c])
            .subarray(0, 2048)
            .toString('utf8'),
        );
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (over) return;
      // A request is nearly always one chunk: read in place rather than copied.
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      let text: string;
      try {
        text = strictUtf8.decode(bytes);
      } catch {
        // Not UTF-8 (XML 1.0 §4.3.3: a fatal error): refused whole, and the session it names ends (XEP-0124 §17.2).
        log.debug('bosh: refused a request body that is not valid UTF-8');
        return refuseWithSession(res, 'bad-request', SID_PEEK.exec(bytes.subarray(0, 2048).toString('latin1'))?.[2]);
      }
      try {
        dispatch(text, req, res);
      } catch (err) {
        log.error(`bosh: ${(err as Error).stack}`);
        refuse(res, 'internal-server-error');
      }
    });
    req.on('error', () => {
      /* the client went away; its session times out if it does not come back */
    });
  };

  return {
    config: cfg,
    get sessionCount() {
      return sessions.size;
    },
    handle(req, res, pathOverride = false) {
      if (!cfg.enabled) return false;
      if (!pathOverride && requestPath(req) !== path) return false;
      switch (req.method) {
        case 'POST':
          post(req, res);
          return true;
        case 'OPTIONS':
          res.writeHead(204, [...preflight, 'Content-Length', '0']);
          res.end();
          return true;
        case 'GET':
        case 'HEAD': {
          const page = infoPage(opts.config.domain);
          res.writeHead(200, [
            ...cors,
            'Content-Type',
            'text/html; charset=utf-8',
            'Content-Length',
            String(Buffer.byteLength(page)),
            'Cache-Control',
            'no-cache',
          ]);
          res.end(req.method === 'GET' ? page : undefined);
          return true;
        }
        default:
          res.writeHead(405, [...cors, 'Allow', 'POST, OPTIONS, GET, HEAD', 'Content-Type', 'text/plain']);
          res.end('method not allowed\n');
          return true;
      }
    },
    close() {
      closed = true;
      for (const s of [...sessions.values()]) s.shutdown();
      sessions.clear();
    },
  };
}

function parseRid(v: string | undefined): number | null {
  if (v === undefined || !/^\d{1,16}$/.test(v)) return null;
  const n = Number(v);
  return n > 0 && n <= MAX_RID ? n : null;
}

function clamp(v: string | undefined, min: number, max: number, def: number): number {
  if (v === undefined || !/^\d{1,6}$/.test(v)) return def;
  return Math.max(min, Math.min(max, Number(v)));
}

function infoPage(domain: string): string {
  const d = escapeXMLText(domain);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>BOSH for ${d}</title></head>
<body><h1>BOSH endpoint for ${d}</h1>
<p>This URL speaks XMPP over BOSH (XEP-0124, XEP-0206): XMPP clients POST <code>&lt;body/&gt;</code> requests here.
There is nothing to see in a browser.</p></body></html>\n`;
}

/**
 * What paces BOSH sessions' room traffic: the server's coalescer, or with bosh.pushIntervalMs a window of their own at
 * least that long (behind a per-IP request limit, a busy room's viewer then costs a request per interval). Answers
 * are never held, so a login is as fast as without it. Held bytes do not shorten that window: each response costs a
 * request, however much it carries.
 */
function pacingCoalescer(
  cfg: BoshConfig,
  config: ServerConfig,
  shared: WriteCoalescer | undefined,
): WriteCoalescer | undefined {
  if (cfg.pushIntervalMs <= config.c2s.coalesceMs) return shared;
  return new WriteCoalescer({
    windowMs: cfg.pushIntervalMs,
    maxHeldBytes: config.limits.maxSendBufferBytes,
    maxWindowMs: Math.max(cfg.pushIntervalMs, config.c2s.coalesceMaxMs),
    writesPerSecond: config.c2s.coalesceWritesPerSecond,
  });
}
