// RFC 7395 §3.1 (and XEP-0468): the "xmpp" subprotocol is required (livechat's peers would otherwise queue their
// stanzas forever). A module of its own so that the WebSocket edge process, which answers handshakes too, checks it
// without loading the XML side of the WebSocket transport.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** Answers 400 and returns true when the upgrade request does not offer the "xmpp" subprotocol. */
export function refuseWithoutXmppSubprotocol(req: IncomingMessage, socket: Duplex): boolean {
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((s) => s.trim());
  if (offered.includes('xmpp')) return false;
  socket.end(
    'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nWebSocket subprotocol "xmpp" required\n',
  );
  return true;
}
