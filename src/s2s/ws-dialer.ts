// Opening an S2S stream over WebSocket (XEP-0468) to a peer's URL: subprotocol "xmpp", livechat's instance-URL
// header when we have a public URL, and a ping while idle. `ws` masks what we send, as a client must.
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { S2sContext } from './context.js';
import { DialError, type S2sDialer } from './dialer.js';
import { WsS2sStream } from './ws-stream.js';
import { plainAddress } from '../http/client-address.js';

export const INSTANCE_URL_HEADER = 'peertube-livechat-ws-s2s-instance-url';

export function wsDialer(ctx: S2sContext, url: string): S2sDialer {
  return (local, remote, track) =>
    new Promise((resolve, reject) => {
      const { instanceUrl, pingIntervalSeconds } = ctx.config.websocket;
      const ws = new WebSocket(url, 'xmpp', {
        headers: instanceUrl ? { [INSTANCE_URL_HEADER]: instanceUrl } : {},
        perMessageDeflate: false,
        maxPayload: Math.max(ctx.maxStanzaSize * 2, 64 * 1024),
        handshakeTimeout: ctx.config.connectTimeoutSeconds * 1000,
      });
      track(() => ws.terminate());
      const fail = (why: string): void => {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(new DialError(`WebSocket ${url}: ${why}`, /timed? ?out/i.test(why) ? 'timeout' : 'not-found'));
      };
      ws.once('unexpected-response', (_req, res) => fail(`HTTP ${res.statusCode}`));
      ws.once('error', (err) => fail(err.message));
      ws.once('open', () => {
        ws.removeAllListeners();
        if (ws.protocol !== 'xmpp') return fail('the peer did not accept the "xmpp" subprotocol');
        const socket = (ws as unknown as { _socket?: Socket })._socket;
        ctx.log.debug(`s2s out ${local} → ${remote}: WebSocket connected to ${url}`);
        resolve(
          new WsS2sStream(ws, {
            remoteAddress: plainAddress(socket?.remoteAddress ?? url),
            secure: url.startsWith('wss:'),
            maxStanzaSize: ctx.maxStanzaSize,
            maxSendBufferBytes: ctx.maxSendBufferBytes,
            pingIntervalMs: pingIntervalSeconds * 1000,
            corkTarget: socket,
          }),
        );
      });
    });
}
