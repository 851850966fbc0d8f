// Child process for bench/occupant-memory.ts: N/2 raw WebSocket viewers log in anonymously and send initial presence
// ("bound K"), the other half on a "more" line on stdin ("bound N"); each "join" line seats the next half in one room
// ("joined K", then "joined N"); then they sit idle (reading whatever comes) until stdin closes. With room "-" they only open plain WebSocket connections (the bare `ws` baseline).
import { WebSocket } from 'ws';
import { wsClient, type RawClient } from './raw-clients.js';

const [url, nStr, room, concStr] = process.argv.slice(2);
const N = Number(nStr);
const CONCURRENCY = Number(concStr ?? 50);
const clients: RawClient[] = [];
let next = 0;
const deadline = Date.now() + 120_000;

/** Idle viewers answer the server's keepalive pings (XEP-0199), as browsers' clients do, so they are not dropped. */
function answerPing(c: RawClient, s: string): void {
  if (!s.startsWith('<iq') || !s.includes('urn:xmpp:ping')) return;
  const id = /id="([^"]*)"/.exec(s)?.[1];
  if (id !== undefined) c.send(`<iq xmlns="jabber:client" type="result" id="${id}"/>`);
}

async function login(): Promise<void> {
  const c = await wsClient(url!, 'anon.localhost');
  c.onData((s) => answerPing(c, s));
  c.send('<presence xmlns="jabber:client"/>');
  clients.push(c);
}

async function join(c: RawClient, i: number): Promise<void> {
  const nick = `Anonymous ${String(100000 + i)}`;
  await new Promise<void>((resolve) => {
    let seen = '';
    c.onData((s) => {
      answerPing(c, s);
      if (seen === null) return;
      // our own join presence carries status 110; everything after is just read and dropped
      if (s.includes('code="110"')) {
        seen = null as unknown as string;
        resolve();
      }
    });
    c.send(
      `<presence xmlns="jabber:client" to="${room}/${nick}"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`,
    );
  });
}

/** Baseline mode (room "-"): plain WebSocket connections to a bare `ws` server, no XMPP. */
async function bareSocket(): Promise<void> {
  const ws = new WebSocket(url!, ['xmpp'], { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  clients.push({ jid: '', send: (x) => ws.send(x), onData: () => {}, close: () => ws.terminate() });
}

/** Opens connections until `upTo` are open. */
async function connect(upTo: number): Promise<void> {
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < upTo && Date.now() < deadline) {
        next++;
        await (room === '-' ? bareSocket() : login());
      }
    }),
  );
  console.log(`bound ${clients.length}`);
}

// Two halves, so the parent can measure the second half alone (a marginal cost, without one-time costs).
const HALF = Math.floor(N / 2);
await connect(HALF);
let seated = 0;
let queue = Promise.resolve();
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => {
  for (const cmd of d.split('\n')) {
    if (cmd === 'more') queue = queue.then(() => connect(N));
    if (cmd === 'join') {
      queue = queue.then(async () => {
        const upTo = seated < HALF ? HALF : clients.length;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (seated < upTo) {
              const i = seated++;
              await join(clients[i]!, i);
            }
          }),
        );
        console.log(`joined ${seated}`);
      });
    }
  }
});
process.stdin.on('end', () => {
  for (const c of clients) c.close();
  process.exit(0);
});
