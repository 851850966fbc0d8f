// The plugin's HTTP routes on PeerTube's router (/plugins/livechat/router/…) and its WebSocket routes
// (/plugins/livechat/ws/…), each a thin call into the running chat server or the login store.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { LivechatRuntime } from './runtime.js';

/** The subset of an Express router PeerTube hands out that the plugin uses. */
export interface RouterLike {
  use(fn: (req: any, res: any, next: (err?: unknown) => void) => void): unknown;
  get(path: string, fn: (req: any, res: any, next: (err?: unknown) => void) => void): unknown;
  post(path: string, fn: (req: any, res: any, next: (err?: unknown) => void) => void): unknown;
  delete(path: string, fn: (req: any, res: any, next: (err?: unknown) => void) => void): unknown;
  all(path: string, fn: (req: any, res: any, next: (err?: unknown) => void) => void): unknown;
}

type Handler = (req: any, res: any, next: (err?: unknown) => void) => void;

function notFound(res: ServerResponse): void {
  res.statusCode = 404;
  res.setHeader('Content-Type', 'text/plain');
  res.end('Not found');
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(data.length),
    'Cache-Control': 'no-store',
  });
  res.end(data);
}

/** Wraps an async handler: answers 404 once the plugin is unregistered, 500 on an unexpected error. */
export function route(
  rt: () => LivechatRuntime | null,
  fn: (r: LivechatRuntime, req: any, res: any) => Promise<void> | void,
): Handler {
  return (req, res) => {
    const r = rt();
    if (!r) return notFound(res);
    Promise.resolve()
      .then(() => fn(r, req, res))
      .catch((err: unknown) => {
        r.log.error(`livechat: ${req.method} ${req.originalUrl ?? req.url} failed: ${(err as Error)?.stack ?? err}`);
        if (!res.headersSent) json(res, 500, { error: 'internal error' });
      });
  };
}

export function mountRoutes(router: RouterLike, rt: () => LivechatRuntime | null): void {
  // The chat page and its assets (ConverseJS). PeerTube sends X-Frame-Options: DENY on every response, which would
  // keep its own watch page from embedding the chat: removed here, the page's CSP frame-ancestors says who may.
  router.use((req: IncomingMessage, res: ServerResponse, next) => {
    const url = req.url ?? '/';
    if (!url.startsWith('/webchat/')) return next();
    const r = rt();
    if (!r) return notFound(res);
    res.removeHeader('X-Frame-Options');
    if (!r.webchat(req, res)) next();
  });

  // BOSH: PeerTube's body parsers leave text/xml bodies unread, so the stream reaches the server intact.
  router.all('/http-bind', (req: IncomingMessage, res: ServerResponse) => {
    const r = rt();
    if (!r) return notFound(res);
    r.server.handleBosh(req, res);
  });

  // Occupant avatars by hash (immutable PNGs).
  router.get('/avatars/:file', (req: IncomingMessage, res: ServerResponse, next) => {
    const r = rt();
    if (!r) return notFound(res);
    if (!r.server.handleRequest(req, res)) next();
  });

  router.get(
    '/api/auth',
    route(rt, async (r, _req, res) => {
      const user = await r.authUser(res);
      const creds = user ? r.auth.tempPassword(user) : null;
      if (!user || !creds) return json(res, 403, { error: 'not logged in' });
      json(res, 200, { ...creds, nickname: await r.nickname(user), type: 'peertube' });
    }),
  );

  router.get(
    '/api/auth/tokens',
    route(rt, async (r, _req, res) => {
      const user = await r.authUser(res);
      const tokens = await r.auth.listTokens(user);
      if (!tokens) return json(res, 403, { error: 'forbidden' });
      const nickname = await r.nickname(user!);
      json(
        res,
        200,
        tokens.map((t) => ({ ...t, nickname })),
      );
    }),
  );

  router.post(
    '/api/auth/tokens',
    route(rt, async (r, req, res) => {
      const user = await r.authUser(res);
      const label = req.body?.label;
      if (typeof label !== 'string' || label.length === 0 || label.length > 255)
        return json(res, 400, { error: 'label required' });
      const token = await r.auth.createToken(user, label);
      if (!token) return json(res, 403, { error: 'forbidden' });
      json(res, 200, { ...token, nickname: await r.nickname(user!) });
    }),
  );

  router.delete(
    '/api/auth/tokens/:tokenId',
    route(rt, async (r, req, res) => {
      const user = await r.authUser(res);
      const id = Number(req.params?.tokenId);
      if (!Number.isSafeInteger(id)) return json(res, 400, { error: 'bad token id' });
      if (!(await r.auth.revokeToken(user, id))) return json(res, 403, { error: 'forbidden' });
      json(res, 200, true);
    }),
  );

  router.get(
    '/api/federation_server_infos',
    route(rt, (r, _req, res) => {
      json(res, 200, r.serverInfos());
    }),
  );
}

/** WebSocket routes; `/xmpp-websocket` first: PeerTube takes the first registered route starting with the path. */
export function webSocketRoutes(
  rt: () => LivechatRuntime | null,
): Array<{ route: string; handler: (req: IncomingMessage, socket: Duplex, head: Buffer) => void }> {
  const refuse = (socket: Duplex, status: string) => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  return [
    {
      route: '/xmpp-websocket',
      handler: (req, socket, head) => {
        const r = rt();
        if (!r || r.settings.disableWebsocket) return refuse(socket, '404 Not Found');
        r.server.handleWebSocket(req, socket, head);
      },
    },
    {
      // Server-to-server over WebSocket (XEP-0468): other PeerTube instances' chat servers.
      route: '/xmpp-websocket-s2s',
      handler: (req, socket, head) => {
        const r = rt();
        if (!r || !r.server.handleS2sUpgrade(req, socket, head)) refuse(socket, '404 Not Found');
      },
    },
  ];
}
