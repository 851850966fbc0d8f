// The chat backend for the browser tests: our own server (createServer) with the web chat handler mounted,
// or — while the MUC is not yet wired into createServer — a throwaway Prosody with the same shape, so the
// page can still be tested end to end. The test prints which one it used.
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

/** Does room.<domain> answer disco#info as a MUC service? Asked by an anonymous viewer, as the page would. */
async function hasMuc(wsUrl: string, anonHost: string, mucHost: string): Promise<boolean> {
  let c;
  try {
    c = await connectClient({ service: wsUrl, domain: anonHost });
    const res = await c.iq(xml('iq', { type: 'get', to: mucHost }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })), 3000);
    return res.getChild('query')?.getChildren('feature').some((f: Stanza) => f.attrs.var === 'http://jabber.org/protocol/muc') ?? false;
  } catch {
    return false;
  } finally {
    await c?.stop();
  }
}

async function startOurs(): Promise<ChatBackend | null> {
  let ts: TestServer;
  try {
    ts = await startTestServer();
  } catch {
    return null;
  }
  const { domain, anonymousHost, mucHost, http } = ts.server.config;
  if (!anonymousHost || !(await hasMuc(ts.wsUrl, anonymousHost, mucHost))) {
    await ts.stop();
    return null;
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

/** WEBCHAT_BACKEND=prosody forces Prosody; otherwise our server when it has a MUC. */
export async function startBackend(): Promise<ChatBackend> {
  if (process.env.WEBCHAT_BACKEND !== 'prosody') {
    const ours = await startOurs();
    if (ours) return ours;
    if (process.env.WEBCHAT_BACKEND === 'ours') throw new Error('our server has no MUC at room.<domain> yet');
  }
  return startWithProsody();
}
