// The standalone HTTP server: WebSocket upgrades, then mounted handlers (BOSH, web chat, avatars), then a
// small landing page. Inside PeerTube, PeerTube's own server plays this part.
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { addAcceptHandles } from './accept-handles.js';

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
  close(): Promise<void>;
}

const BACKLOG = 4096;

export async function startHttpServer(
  host: string,
  port: number,
  mount: HttpMount,
  acceptsPerLoopTurn = 1,
): Promise<StandaloneHttp> {
  const server = createHttp((req, res) => {
    try {
      if (mount.handleRequest(req, res)) return;
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
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
  const extra = await addAcceptHandles(server, acceptsPerLoopTurn - 1, BACKLOG, (s) => server.emit('connection', s));
  const a = server.address() as AddressInfo;
  return {
    address: { host: a.address, port: a.port },
    extraAcceptHandles: extra.count,
    ...(extra.error ? { acceptHandlesError: extra.error } : {}),
    close: () =>
      new Promise((r) => {
        extra.close();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function landingPage(domain: string, wsPath: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${domain} chat</title></head>
<body><h1>XMPP chat server for ${domain}</h1>
<p>Chat in the demo room: <a href="/webchat/room/demo">/webchat/room/demo</a></p>
<p>XMPP clients connect over WebSocket at <code>${wsPath}</code>.</p></body></html>\n`;
}
