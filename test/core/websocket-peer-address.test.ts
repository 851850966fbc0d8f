// A viewer's WebSocket transport keeps its client's address as a string, read once at the upgrade; the Node socket
// below it does not keep the peer address object it was read from for the connection's life (~56 B per viewer).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket } from 'ws';
import { createWebSocketEndpoint, type WebSocketTransport } from '../../src/xmpp/websocket.js';

test('the upgraded socket forgets its cached peer address; the transport keeps the address, and the socket can tell it again', async () => {
  const accepted: WebSocketTransport[] = [];
  const endpoint = createWebSocketEndpoint({
    path: '/xmpp-websocket',
    maxStanzaSize: 65536,
    secure: false,
    accept: (t) => {
      t.handler = { element() {}, streamOpened() {}, streamClosed() {}, streamError() {}, transportClosed() {} };
      accepted.push(t);
    },
  });
  const http = createServer();
  http.on('upgrade', (req, socket, head) => {
    if (!endpoint.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/xmpp-websocket`, 'xmpp');
  try {
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
    const deadline = Date.now() + 5000;
    while (accepted.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.is(accepted.length, 1, 'the endpoint accepted the connection');
    const t = accepted[0]!;
    assert.is(t.remoteAddress, '127.0.0.1');
    const socket = (t as unknown as { ws: { _socket: Socket } }).ws._socket;
    assert.is((socket as unknown as { _peername?: unknown })._peername, undefined, 'no cached peer address object');
    assert.is(socket.remoteAddress, '127.0.0.1', 'asked again, the socket still knows its peer');
  } finally {
    client.close();
    endpoint.close();
    http.close();
  }
});

test.run();
