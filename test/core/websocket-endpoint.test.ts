// What a viewer's WebSocket connection keeps, and the control frames it answers, at the endpoint itself (a plain
// HTTP server mounting it, a `ws` client nobody here wrote): the client's address read once at the upgrade, with the
// Node socket not keeping the peer address object it came from; pings answered with their payload by the server's
// own pong (not ws's automatic one, a closure per connection), and a client that pings without reading cut off.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket } from 'ws';
import { createWebSocketEndpoint, type WebSocketEndpoint, type WebSocketTransport } from '../../src/xmpp/websocket.js';

interface Endpoint {
  url: string;
  accepted: WebSocketTransport[];
  /** Transports whose connection closed (their handler heard it). */
  closed: Set<WebSocketTransport>;
  stop(): void;
}

async function startEndpoint(): Promise<Endpoint> {
  const accepted: WebSocketTransport[] = [];
  const closed = new Set<WebSocketTransport>();
  const endpoint: WebSocketEndpoint = createWebSocketEndpoint({
    path: '/xmpp-websocket',
    maxStanzaSize: 65536,
    secure: false,
    accept: (t) => {
      t.handler = {
        element() {},
        streamOpened() {},
        streamClosed() {},
        streamError() {},
        transportClosed: () => closed.add(t),
      };
      accepted.push(t);
    },
  });
  const http: Server = createServer();
  http.on('upgrade', (req, socket, head) => {
    if (!endpoint.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/xmpp-websocket`,
    accepted,
    closed,
    stop() {
      endpoint.close();
      http.close();
    },
  };
}

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function open(url: string): Promise<WebSocket> {
  const c = new WebSocket(url, 'xmpp');
  await new Promise((resolve, reject) => c.once('open', resolve).once('error', reject));
  return c;
}

test('the upgraded socket forgets its cached peer address; the transport keeps the address, and the socket can tell it again', async () => {
  const e = await startEndpoint();
  const client = await open(e.url);
  try {
    await until('the endpoint accepted the connection', () => e.accepted.length === 1);
    const t = e.accepted[0]!;
    assert.is(t.remoteAddress, '127.0.0.1');
    const socket = (t as unknown as { ws: { _socket: Socket } }).ws._socket;
    assert.is((socket as unknown as { _peername?: unknown })._peername, undefined, 'no cached peer address object');
    assert.is(socket.remoteAddress, '127.0.0.1', 'asked again, the socket still knows its peer');
  } finally {
    client.terminate();
    e.stop();
  }
});

test("a client's pings get pongs with their payload, and the connection keeps no closure for them", async () => {
  const e = await startEndpoint();
  const client = await open(e.url);
  try {
    const pongs: string[] = [];
    client.on('pong', (d: Buffer) => pongs.push(d.toString()));
    for (const payload of ['', 'keepalive', 'ü'.repeat(60)]) client.ping(payload);
    await until('three pongs came back', () => pongs.length === 3);
    assert.equal(pongs, ['', 'keepalive', 'ü'.repeat(60)]);
    await until('the endpoint accepted the connection', () => e.accepted.length === 1);
    const ws = (e.accepted[0] as unknown as { ws: Record<string, unknown> }).ws;
    assert.is(ws._autoPongComplete, undefined, "ws's per-connection pong callback");
    assert.is(e.closed.size, 0, 'the connection stays open');
  } finally {
    client.terminate();
    e.stop();
  }
});

test('a client that pings without reading its pongs is cut off; another client is still answered', async () => {
  const e = await startEndpoint();
  const flooder = await open(e.url);
  const other = await open(e.url);
  try {
    await until('both connections accepted', () => e.accepted.length === 2);
    const flooding = e.accepted[0]!;
    // The flooder stops reading: its pongs fill the loopback buffers, then wait in the server's socket.
    (flooder as unknown as { _socket: Socket })._socket.pause();
    const payload = 'x'.repeat(125);
    for (let i = 0; i < 200_000 && !e.closed.has(flooding); i++) {
      flooder.ping(payload);
      if (i % 2000 === 1999) await new Promise((r) => setImmediate(r));
    }
    await until('the server cut the flooder off', () => e.closed.has(flooding));
    const pongs: string[] = [];
    other.on('pong', (d: Buffer) => pongs.push(d.toString()));
    other.ping('still there?');
    await until('the other client got its pong', () => pongs.length === 1);
    assert.is(pongs[0], 'still there?');
    assert.not.ok(e.closed.has(e.accepted[1]!), 'the other connection stays open');
  } finally {
    flooder.terminate();
    other.terminate();
    e.stop();
  }
});

test.run();
