// The incoming side of XEP-0468: `GET <path>` upgrades (on our HTTP port, or through handleUpgrade when PeerTube
// owns the HTTP server) become S2S streams for the session code. The socket goes through UnmaskedFrameAdapter so
// livechat's unmasked client frames reach `ws` as valid ones.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { refuseWithoutXmppSubprotocol } from '../xmpp/websocket-subprotocol.js';
import { WsS2sStream } from './ws-stream.js';
import { UnmaskedFrameAdapter } from './ws-unmasked.js';
import { INSTANCE_URL_HEADER } from './ws-dialer.js';
import { requestPath } from '../http/request-path.js';
import { plainAddress } from '../http/client-address.js';

export interface WsS2sEndpoint {
  /** Takes the upgrade when the path is ours (or `pathOverride`); false otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, pathOverride?: boolean): boolean;
  close(): void;
}

export interface WsS2sAccepted {
  stream: WsS2sStream;
  /** The base URL a livechat peer announces in its request header (its serverInfos can be fetched from it). */
  instanceUrl?: string;
  adapter: UnmaskedFrameAdapter;
}

export function createWsS2sEndpoint(opts: {
  path: string;
  maxStanzaSize: number;
  maxSendBufferBytes: number;
  secure: boolean;
  accept(a: WsS2sAccepted): void;
}): WsS2sEndpoint {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: Math.max(opts.maxStanzaSize * 2, 64 * 1024),
    handleProtocols: (protocols) => (protocols.has('xmpp') ? 'xmpp' : false),
  });
  return {
    handleUpgrade(req, socket, head, pathOverride = false) {
      const path = requestPath(req);
      if (!pathOverride && path !== opts.path) return false;
      if (refuseWithoutXmppSubprotocol(req, socket)) return true;
      const adapter = new UnmaskedFrameAdapter(socket as Socket);
      wss.handleUpgrade(req, adapter, adapter.adaptHead(head), (ws) => {
        const header = req.headers[INSTANCE_URL_HEADER];
        const secure = opts.secure || (req.socket as { encrypted?: boolean }).encrypted === true;
        const stream = new WsS2sStream(ws, {
          remoteAddress: plainAddress(req.socket.remoteAddress ?? 'unknown'),
          secure,
          maxStanzaSize: opts.maxStanzaSize,
          maxSendBufferBytes: opts.maxSendBufferBytes,
          corkTarget: adapter,
          unmaskedFrames: () => adapter.unmaskedFrames,
        });
        opts.accept({ stream, adapter, ...(typeof header === 'string' ? { instanceUrl: header } : {}) });
      });
      return true;
    },
    close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}
