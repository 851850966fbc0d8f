// Child process for bench/occupant-memory.ts: N raw WebSocket viewers log in anonymously and send initial presence
// ("bound N"), then on a "join" line on stdin join one room ("joined N"), then sit idle (reading whatever comes)
// until stdin closes. With room "-" they only open plain WebSocket connections (the bare `ws` baseline).
import { WebSocket } from 'ws';
import { wsClient, type RawClient } from './raw-clients.js';

const [url, nStr, room, concStr] = process.argv.slice(2);
const N = Number(nStr);
const CONCURRENCY = Number(concStr ?? 50);
const clients: RawClient[] = [];
let next = 0;
const deadline = Date.now() + 120_000;

async function login(): Promise<void> {
  const c = await wsClient(url!, 'anon.localhost');
  c.onData(() => {});
  c.send('<presence xmlns="jabber:client"/>');
  clients.push(c);
}

async function join(c: RawClient, i: number): Promise<void> {
  const nick = `Anonymous ${String(100000 + i)}`;
  await new Promise<void>((resolve) => {
    let seen = '';
    c.onData((s) => {
      if (seen === null) return;
      // our own join presence carries status 110; everything after is just read and dropped
      if (s.includes('code="110"')) { seen = null as unknown as string; resolve(); }
    });
    c.send(`<presence xmlns="jabber:client" to="${room}/${nick}"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`);
  });
}

/** Baseline mode (room "-"): plain WebSocket connections to a bare `ws` server, no XMPP. */
async function bareSocket(): Promise<void> {
  const ws = new WebSocket(url!, ['xmpp'], { perMessageDeflate: false });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  clients.push({ jid: '', send: (x) => ws.send(x), onData: () => {}, close: () => ws.terminate() });
}

await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  while (next < N && Date.now() < deadline) { next++; await (room === '-' ? bareSocket() : login()); }
}));
console.log(`bound ${clients.length}`);
process.stdin.setEncoding('utf8');
process.stdin.on('data', async (d: string) => {
  if (!d.includes('join')) return;
  let k = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (k < clients.length) { const i = k++; await join(clients[i]!, i); }
  }));
  console.log(`joined ${clients.length}`);
});
process.stdin.on('end', () => { for (const c of clients) c.close(); process.exit(0); });
