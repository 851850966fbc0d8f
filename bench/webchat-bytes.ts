// Bytes on the wire to load the web chat page up to the nickname prompt, in headless Chromium, measured
// with the DevTools protocol (Network.loadingFinished encodedDataLength = headers + body as transferred).
// Cold: a fresh profile. Warm: the same profile opening the page again in a new tab (a returning viewer).
// Baseline measured in the same run: the decoded (uncompressed) size of the same responses, i.e. what the
// cold load would cost without compression.
// Usage: node --import tsx bench/webchat-bytes.ts   (WEBCHAT_BACKEND=prosody|ours as in the tests)
import type { CDPSession, Page } from 'playwright-core';
import { launchChromium } from '../test/webchat/browser.js';
import { startBackend } from '../test/webchat/backend.js';

interface Row {
  url: string;
  status: number;
  fromCache: boolean;
  encoded: number;
  decoded: number;
}
/** The status on the wire (a revalidated 304 is reported to the page as the cached 200). */
const wireStatus = new Map<string, number>();
interface Load {
  rows: Row[];
  wsBytes: number;
  ms: number;
}

async function measure(page: Page, url: string): Promise<Load> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const byId = new Map<string, Row>();
  let wsBytes = 0;
  cdp.on('Network.responseReceived', (e) => {
    byId.set(e.requestId, {
      url: e.response.url,
      status: e.response.status,
      fromCache: !!(e.response.fromDiskCache || e.response.fromPrefetchCache || e.response.fromServiceWorker),
      encoded: 0,
      decoded: 0,
    });
  });
  cdp.on('Network.responseReceivedExtraInfo', (e) => {
    wireStatus.set(e.requestId, e.statusCode);
  });
  cdp.on('Network.requestServedFromCache', (e) => {
    const r = byId.get(e.requestId);
    if (r) r.fromCache = true;
  });
  cdp.on('Network.dataReceived', (e) => {
    const r = byId.get(e.requestId);
    if (r) r.decoded += e.dataLength;
  });
  cdp.on('Network.loadingFinished', (e) => {
    const r = byId.get(e.requestId);
    if (r) {
      r.encoded = e.encodedDataLength;
      r.status = wireStatus.get(e.requestId) ?? r.status;
    }
  });
  cdp.on('Network.webSocketFrameReceived', (e) => {
    wsBytes += Buffer.byteLength(e.response.payloadData);
  });
  cdp.on('Network.webSocketFrameSent', (e) => {
    wsBytes += Buffer.byteLength(e.response.payloadData);
  });

  const t0 = performance.now();
  await page.goto(url);
  await page.locator('converse-muc-nickname-form input[name="nick"]').waitFor({ state: 'visible', timeout: 30000 });
  const ms = performance.now() - t0;
  // Let anything lazily requested after the first render finish (bounded wait).
  await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => undefined);
  await cdp.detach();
  // Requests served from memory cache never get a responseReceived with bytes; they are simply absent.
  return { rows: [...byId.values()].filter((r) => !r.url.startsWith('data:')), wsBytes, ms };
}

function short(url: string): string {
  const p = new URL(url).pathname;
  return p
    .replace(/\/assets\/c-[\w-]+\//, '/assets/c-*/')
    .replace(/^\/webchat/, '')
    .slice(0, 52);
}

function kb(n: number): string {
  return (n / 1024).toFixed(1).padStart(8);
}

async function main(): Promise<void> {
  const backend = await startBackend();
  const browser = await launchChromium();
  try {
    const room = 'bench-room';
    const url = `${backend.httpUrl}/webchat/room/${room}`;
    // Assets are precompressed at startup; wait for that so the cold load measures bytes, not brotli time.
    await (await backend.handler.ready).warm();

    const cold = await measure(await browser.context.newPage(), url);
    const warm = await measure(await browser.context.newPage(), url);

    const names = [...new Set([...cold.rows, ...warm.rows].map((r) => short(r.url)))];
    const find = (l: Load, n: string) => l.rows.find((r) => short(r.url) === n);
    console.log(`web chat page bytes (backend: ${backend.kind}; KiB as transferred, headers included)\n`);
    console.log(
      `${'resource'.padEnd(54)}${'cold'.padStart(8)}${'warm'.padStart(8)}${'decoded'.padStart(9)}  warm status`,
    );
    for (const n of names) {
      const c = find(cold, n);
      const w = find(warm, n);
      const wcell = w ? (w.fromCache ? '   cache' : kb(w.encoded)) : '  memory';
      const wstat = w
        ? w.fromCache
          ? 'disk cache'
          : w.status === 304
            ? '304 revalidated'
            : String(w.status)
        : 'memory cache';
      console.log(
        `${n.padEnd(54)}${c ? kb(c.encoded) : '       -'}${wcell}${c ? kb(c.decoded).padStart(9) : '        -'}  ${wstat}`,
      );
    }
    const sum = (l: Load, f: (r: Row) => number) => l.rows.reduce((a, r) => a + f(r), 0);
    const coldBytes = sum(cold, (r) => r.encoded);
    const warmBytes = sum(warm, (r) => (r.fromCache ? 0 : r.encoded));
    const decoded = sum(cold, (r) => r.decoded);
    console.log('-'.repeat(92));
    console.log(`${'total HTTP'.padEnd(54)}${kb(coldBytes)}${kb(warmBytes)}${kb(decoded).padStart(9)}`);
    console.log(
      `${'requests over the network'.padEnd(54)}${String(cold.rows.filter((r) => !r.fromCache).length).padStart(8)}${String(warm.rows.filter((r) => !r.fromCache).length).padStart(8)}`,
    );
    console.log(`${'XMPP over WebSocket (frame payloads)'.padEnd(54)}${kb(cold.wsBytes)}${kb(warm.wsBytes)}`);
    console.log(
      `${'time to nickname prompt (ms)'.padEnd(54)}${cold.ms.toFixed(0).padStart(8)}${warm.ms.toFixed(0).padStart(8)}`,
    );
    console.log('');
    console.log(
      `cold / uncompressed baseline: ${(coldBytes / decoded).toFixed(3)} (compression saves ${((1 - coldBytes / decoded) * 100).toFixed(1)}%)`,
    );
    console.log(
      `warm / cold:                  ${(warmBytes / coldBytes).toFixed(4)} (cache saves ${((1 - warmBytes / coldBytes) * 100).toFixed(2)}%)`,
    );
  } finally {
    await browser.close();
    await backend.stop();
  }
}

await main();
