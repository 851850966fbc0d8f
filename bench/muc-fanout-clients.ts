// Worker for bench/muc-fanout.ts: the N client sockets live here, on their own thread, so the server side's CPU
// is what the benchmark measures. Latency = receive time − the absolute timestamp embedded in each message.
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';

const port = parentPort!;
const STAMP = /t=(\d+(?:\.\d+)?)/;
const now = () => performance.timeOrigin + performance.now();
let clients: WebSocket[] = [];
let latencies: number[] = [];
let count = 0;
let target = Infinity;
let mode: 'stamp' | 'storm' = 'stamp';
let stormDone = 0;
let frames = 0;
const storm = new Map<number, { self: boolean; history: number }>();

function onMessage(i: number, data: Buffer): void {
  frames++;
  if (mode === 'stamp') {
    const m = STAMP.exec(data.toString());
    if (!m) return;
    latencies.push(now() - Number(m[1]));
    if (++count === target) port.postMessage({ type: 'reached', count });
    return;
  }
  if (i === 0) return;
  const s = data.toString();
  const st = storm.get(i) ?? { self: false, history: 0 };
  storm.set(i, st);
  if (s.includes('code="110"')) st.self = true;
  else if (s.includes('<delay')) st.history++;
  else if (s.includes('<subject') && st.self && st.history >= 20 && ++stormDone === clients.length - 1)
    port.postMessage({ type: 'storm-done' });
}

port.on('message', async (msg: { cmd: string; port?: number; n?: number; target?: number }) => {
  if (msg.cmd === 'connect') {
    for (let start = 0; start < msg.n!; start += 100) {
      const chunk = await Promise.all(
        Array.from(
          { length: Math.min(100, msg.n! - start) },
          (_, k) =>
            new Promise<WebSocket>((resolve, reject) => {
              const i = start + k;
              const ws = new WebSocket(`ws://127.0.0.1:${msg.port}/?i=${i}`, { perMessageDeflate: false });
              ws.on('open', () => resolve(ws));
              ws.on('error', reject);
              ws.on('message', (d: Buffer) => onMessage(i, d));
            }),
        ),
      );
      clients.push(...chunk);
    }
    port.postMessage({ type: 'connected' });
  } else if (msg.cmd === 'expect') {
    target = msg.target!;
    if (count >= target) port.postMessage({ type: 'reached', count });
  } else if (msg.cmd === 'reset') {
    mode = 'stamp';
    latencies = [];
    count = 0;
    target = Infinity;
    frames = 0;
    port.postMessage({ type: 'reset' });
  } else if (msg.cmd === 'storm') {
    mode = 'storm';
    storm.clear();
    stormDone = 0;
    frames = 0;
    port.postMessage({ type: 'storm-ready' });
  } else if (msg.cmd === 'debug') {
    port.postMessage({ type: 'debug', count, target, frames, clients: clients.length });
  } else if (msg.cmd === 'report') {
    port.postMessage({ type: 'report', latencies, frames });
  } else if (msg.cmd === 'close') {
    for (const c of clients) c.terminate();
    clients = [];
    port.postMessage({ type: 'closed' });
  }
});
