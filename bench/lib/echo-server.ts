// Baseline for bench/connect.ts: a bare `ws` server that answers each message with the same bytes.
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: false,
  handleProtocols: () => 'xmpp',
});
wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d, { binary: false })));
wss.on('listening', () => {
  const a = wss.address() as { port: number };
  console.log(`listening ws://127.0.0.1:${a.port}/`);
});
process.on('SIGTERM', () => process.exit(0));
