// The standalone HTTP server: WebSocket upgrades, then mounted handlers (BOSH, web chat, avatars), then a
// small landing page. Inside PeerTube, PeerTube's own server plays this part.
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo, Socket } from 'node:net';
import { addAcceptHandles } from './accept-handles.js';
import { requestPath } from './request-path.js';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface HttpMount {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  readonly config: { domain: string; http: { websocketPath: string } };
}

export interface StandaloneHttp {
  address: { host: string; port: number };
  /** Handles accepting on the listening socket besides the server's own (see accept-handles.ts). */
  extraAcceptHandles: number;
  /** Why no extra handles could be made, when they could not. */
  acceptHandlesError?: string;
  /** The listening socket's handle and backlog, for another process to accept on too (the WebSocket edge). */
  listener: { handle: unknown; backlog: number };
  /**
   * Stops this process accepting connections while another process accepts them all on the listening socket (the
   * WebSocket edge); false when it could not accept again later (no spare handle), in which case it goes on.
   */
  pauseAccepting(): boolean;
  /** Accepts again (the other process is gone). */
  resumeAccepting(): Promise<void>;
  /**
   * Serves a connection accepted elsewhere on the listening socket (a socket, or a stream standing for one), `head`
   * being what was read of it there.
   */
  adopt(socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

const BACKLOG = 4096;

export async function startHttpServer(
  host: string,
  port: number,
  mount: HttpMount,
  acceptsPerLoopTurn = 1,
  /** Another process will accept on the listening socket too (the WebSocket edge): keep a spare handle for it. */
  shared = false,
): Promise<StandaloneHttp> {
  const server = createHttp((req, res) => {
    try {
      if (mount.handleRequest(req, res)) return;
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
      return;
    }
    const path = requestPath(req);
    if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(landingPage(mount.config.domain, mount.config.http.websocketPath));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  server.on('upgrade', (req, socket, head) => {
    if (!mount.handleUpgrade(req, socket, head)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    }
  });
  // Keep-alive sockets would hold close() open on shutdown.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolveStart, reject) => {
    server.once('error', reject);
    // A join storm opens hundreds of connections a second: a backlog above Node's 511 (the kernel caps it at
    // net.core.somaxconn) keeps them queued rather than dropped, which costs a client seconds of SYN retries.
    server.listen({ port, host, backlog: BACKLOG }, () => {
      server.off('error', reject);
      resolveStart();
    });
  });
  // http.Server takes sockets accepted elsewhere through its 'connection' event (and tracks them for closing).
  const onConnection = (s: Socket) => server.emit('connection', s);
  // Shared, a spare (bare) handle besides: it keeps the listening socket open, and accepting possible again, while
  // another process accepts alone (pauseAccepting), and it is the handle shared with that process.
  let extra = await addAcceptHandles(server, {
    copies: acceptsPerLoopTurn - 1,
    spares: shared ? 1 : 0,
    backlog: BACKLOG,
    onConnection,
  });
  const spare = extra.spares[0] as { close(): void } | undefined;
  let paused = false;
  let closed = false;
  /** The server listens on the spare itself (copies could not be made): it is no longer spare. */
  let spareListening = false;
  let resumed: Promise<void> = Promise.resolve();
  const a = server.address() as AddressInfo;
  return {
    address: { host: a.address, port: a.port },
    extraAcceptHandles: extra.count,
    ...(extra.error ? { acceptHandlesError: extra.error } : {}),
    listener: { handle: spare ?? (server as unknown as { _handle: unknown })._handle, backlog: BACKLOG },
    pauseAccepting() {
      if (!spare || spareListening || closed) return false;
      if (paused) return true;
      paused = true;
      extra.close();
      if (server.listening) {
        server.close();
        // close() also stops the check that enforces headersTimeout and requestTimeout on the connections this server
        // still serves (those the edge passes on among them); http.Server starts that check on 'listening'.
        server.emit('listening');
      }
      return true;
    },
    resumeAccepting() {
      if (!paused || closed) return resumed;
      paused = false;
      resumed = addAcceptHandles({ bare: spare }, { copies: acceptsPerLoopTurn, backlog: BACKLOG, onConnection }).then(
        (copies) => {
          if (paused || closed) return copies.close();
          extra = copies;
          // No copies could be made: the server accepts on the spare itself (and can no longer pause).
          if (copies.count > 0) return;
          spareListening = true;
          server.listen(spare as unknown as Socket, BACKLOG);
        },
      );
      return resumed;
    },
    adopt(socket, head) {
      // Read before anything the socket brings next (http.Server reads what was unshifted first).
      if (head.length > 0) socket.unshift(head);
      server.emit('connection', socket);
    },
    close: async () => {
      closed = true;
      await resumed;
      extra.close();
      if (!spareListening) spare?.close();
      await new Promise<void>((r) => {
        // Called with an error when this process was not accepting (paused): closed either way.
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}

function landingPage(domain: string, wsPath: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${domain} chat</title></head>
<body><h1>XMPP chat server for ${domain}</h1>
<p>Chat in the demo room: <a href="/webchat/room/demo">/webchat/room/demo</a></p>
<p>XMPP clients connect over WebSocket at <code>${wsPath}</code>.</p></body></html>\n`;
}
