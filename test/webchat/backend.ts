// The chat backend for the browser tests: our own server (createServer) with the web chat handler mounted. Only
// WEBCHAT_BACKEND=prosody runs the page against a throwaway Prosody of the same shape instead (to check the page,
// not this server); our server failing to start or lacking a MUC fails the tests, never falls back.
import { createServer as createHttp, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWebchatHandler, type WebchatHandler } from '../../src/webchat/handler.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type Stanza } from '../helpers/xmpp-client.js';
import { startProsody, type DevProsody } from './prosody.js';

export interface ChatBackend {
  kind: 'ours' | 'prosody';
  /** Base URL of the HTTP server that serves the page, e.g. http://127.0.0.1:PORT */
  httpUrl: string;
  /** XMPP WebSocket for @xmpp/client occupants. */
  wsUrl: string;
  domain: string;
  anonHost: string;
  mucHost: string;
  handler: WebchatHandler;
  /** A second mount whose WebSocket URL is refused (404), to exercise the BOSH fallback. */
  boshFallbackBase: string;
  stop(): Promise<void>;
}

const BOSH_FALLBACK_BASE = '/webchat-bosh';

/** Does the MUC host answer disco#info as a MUC service? Asked by an anonymous viewer, as the page would. */
async function hasMuc(wsUrl: string, anonHost: string, mucHost: string): Promise<void> {
  const c = await connectClient({ service: wsUrl, domain: anonHost });
  try {
    const res = await c.iq(
      xml('iq', { type: 'get', to: mucHost }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
      10_000,
    );
    const ok =
      res
        .getChild('query')
        ?.getChildren('feature')
        .some((f: Stanza) => f.attrs.var === 'http://jabber.org/protocol/muc') ?? false;
    if (!ok) throw new Error(`${mucHost} does not advertise http://jabber.org/protocol/muc`);
  } finally {
    await c.stop();
  }
}

async function startOurs(): Promise<ChatBackend> {
  const ts: TestServer = await startTestServer();
  const { domain, anonymousHost, mucHost, http } = ts.server.config;
  try {
    if (!anonymousHost) throw new Error('the test server has no anonymousHost');
    await hasMuc(ts.wsUrl, anonymousHost, mucHost);
  } catch (err) {
    await ts.stop();
    throw err;
  }
  const handler = createWebchatHandler({
    basePath: '/webchat',
    websocketUrl: http.websocketPath,
    boshUrl: http.boshPath,
    anonymousHost,
    mucHost,
    defaultRoom: 'demo',
    clientLogLevel: 'info',
  });
  // If createServer already mounts the web chat itself, that instance answers first: both are this module.
  ts.server.addHttpHandler(handler);
  const fallback = createWebchatHandler({
    basePath: BOSH_FALLBACK_BASE,
    websocketUrl: '/no-websocket-here',
    boshUrl: http.boshPath,
    anonymousHost,
    mucHost,
    assets: handler.ready,
  });
  ts.server.addHttpHandler(fallback);
  await handler.ready;
  return {
    kind: 'ours',
    httpUrl: ts.httpUrl,
    wsUrl: ts.wsUrl,
    domain,
    anonHost: anonymousHost,
    mucHost,
    handler,
    boshFallbackBase: BOSH_FALLBACK_BASE,
    stop: () => ts.stop(),
  };
}

async function startWithProsody(): Promise<ChatBackend> {
  const p: DevProsody = await startProsody('localhost');
  const handler = createWebchatHandler({
    basePath: '/webchat',
    websocketUrl: p.websocketUrl,
    boshUrl: p.boshUrl,
    anonymousHost: 'anon.localhost',
    mucHost: 'room.localhost',
    defaultRoom: 'demo',
    clientLogLevel: 'info',
  });
  const fallback = createWebchatHandler({
    basePath: BOSH_FALLBACK_BASE,
    websocketUrl: p.websocketUrl.replace(/\/xmpp-websocket$/, '/no-websocket-here'),
    boshUrl: p.boshUrl,
    anonymousHost: 'anon.localhost',
    mucHost: 'room.localhost',
    assets: handler.ready,
  });
  const srv: Server = createHttp((req, res) => {
    if (!handler(req, res) && !fallback(req, res)) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  await handler.ready;
  const port = (srv.address() as AddressInfo).port;
  return {
    kind: 'prosody',
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: p.websocketUrl,
    domain: 'localhost',
    anonHost: 'anon.localhost',
    mucHost: 'room.localhost',
    handler,
    boshFallbackBase: BOSH_FALLBACK_BASE,
    async stop() {
      await new Promise<void>((r) => {
        srv.close(() => r());
        srv.closeAllConnections();
      });
      await p.stop();
    },
  };
}

/** Our server; Prosody only when WEBCHAT_BACKEND=prosody asks for it. */
export async function startBackend(): Promise<ChatBackend> {
  const want = process.env.WEBCHAT_BACKEND ?? 'ours';
  if (want === 'prosody') return startWithProsody();
  if (want !== 'ours') throw new Error(`WEBCHAT_BACKEND must be "ours" or "prosody", not "${want}"`);
  return startOurs();
}
