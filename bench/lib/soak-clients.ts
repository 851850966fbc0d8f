// Child process for bench/soak.ts: N slots, each an anonymous WebSocket viewer that joins the room, chats a little,
// stays a while, leaves (unavailable presence and close), pauses, and comes back as a new connection, until the
// deadline. Prints one JSON line of counters per "report" line on stdin, and "done" at the end.
// Usage: soak-clients.ts <ws url> <slots> <room jid> <seconds> <mean stay seconds>
import { wsClient, type RawClient } from './raw-clients.js';

const [url, nStr, room, secStr, stayStr] = process.argv.slice(2);
const N = Number(nStr);
const deadline = Date.now() + Number(secStr) * 1000;
const MEAN_STAY = Number(stayStr) * 1000;
const counts = {
  joins: 0,
  leaves: 0,
  messagesSent: 0,
  messagesReceived: 0,
  errors: 0,
  seated: 0,
  connecting: 0,
  joinMsTotal: 0,
  pingsAnswered: 0,
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, Math.min(ms, deadline - Date.now()))));

/** Resolves when `test` matches a frame, or false after `ms`. */
function waitFor(
  c: RawClient,
  test: (s: string) => boolean,
  ms: number,
  onOther: (s: string) => void,
): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      c.onData(onOther);
      resolve(false);
    }, ms);
    c.onData((s) => {
      if (test(s)) {
        clearTimeout(t);
        c.onData(onOther);
        resolve(true);
      } else onOther(s);
    });
  });
}

async function visit(slot: number, round: number): Promise<void> {
  const t0 = Date.now();
  counts.connecting++;
  let c: RawClient;
  try {
    c = await wsClient(url!, 'anon.localhost');
  } finally {
    counts.connecting--;
  }
  const count = (s: string) => {
    // a quiet client is pinged (XEP-0199) and, like a browser's, answers
    if (s.startsWith('<iq') && s.includes('urn:xmpp:ping') && s.includes('type="get"')) {
      const id = /id="([^"]*)"/.exec(s)?.[1] ?? '';
      c.send(`<iq xmlns="jabber:client" type="result" id="${id}"/>`);
      counts.pingsAnswered++;
      return;
    }
    if (s.startsWith('<message') && s.includes('type="groupchat"')) counts.messagesReceived++;
    if (s.includes('<stream:error') || s.includes('type="error"')) counts.errors++;
  };
  c.onData(count);
  c.send('<presence xmlns="jabber:client"/>');
  const nick = `Soak ${slot}-${round}`;
  c.send(
    `<presence xmlns="jabber:client" to="${room}/${nick}"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="20"/></x></presence>`,
  );
  if (!(await waitFor(c, (s) => s.includes('code="110"'), 30_000, count))) {
    counts.errors++;
    c.close();
    return;
  }
  counts.joins++;
  counts.joinMsTotal += Date.now() - t0;
  counts.seated++;
  try {
    // Stay an exponentially distributed while (bounded), saying something now and then.
    const stay = Math.min(-Math.log(1 - Math.random()) * MEAN_STAY, 4 * MEAN_STAY);
    const end = Date.now() + stay;
    while (Date.now() < end && Date.now() < deadline) {
      await sleep(Math.min(end - Date.now(), 5_000 + Math.random() * 25_000));
      if (Date.now() < end && Date.now() < deadline && Math.random() < 0.5) {
        c.send(
          `<message xmlns="jabber:client" to="${room}" type="groupchat" id="s${slot}-${round}-${counts.messagesSent}"><body>soak ${slot} says hello ${Date.now()}</body></message>`,
        );
        counts.messagesSent++;
      }
    }
  } finally {
    counts.seated--;
    c.send(`<presence xmlns="jabber:client" to="${room}/${nick}" type="unavailable"/>`);
    c.send('<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>');
    counts.leaves++;
    setTimeout(() => c.close(), 500);
  }
}

async function slot(i: number): Promise<void> {
  await sleep(Math.random() * 10_000); // arrivals spread over the first 10 s
  for (let round = 0; Date.now() < deadline; round++) {
    try {
      await visit(i, round);
    } catch {
      counts.errors++;
      await sleep(1000);
    }
    await sleep(Math.random() * 5_000);
  }
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => {
  if (d.includes('report')) console.log(JSON.stringify(counts));
});
await Promise.all(Array.from({ length: N }, (_, i) => slot(i)));
console.log(JSON.stringify(counts));
console.log('done');
process.exit(0);
