// Archive benchmark: one room with N archived messages spread over a year (default 1,000,000).
//   node --import tsx bench/archive.ts [--messages 1000000] [--fsync batch|always|never] [--keep]
// Prints append throughput, bytes on disk per message, open time, history-on-join and MAM page latencies
// (p50/p99), hot-cache memory and RSS, each next to a baseline measured in the same run:
// - writes: the same bytes written with plain fh.write in the same batches, same fsync policy;
// - history on join: what file storage without an index does (Prosody's "read history from disk on every
//   join"): read the day's JSON-lines file and parse every line to keep the last 20;
// - decoding: JSON.parse of the same records as JSON lines.
import { mkdtemp, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseXml } from 'ltx';
import { FileArchive } from '../src/storage/archive.js';
import type { RoomArchive } from '../src/storage/room-archive.js';
import type { FsyncPolicy } from '../src/storage/config.js';
import { encodeMessage, decodeMessage } from '../src/storage/record.js';
import { handleMamIq } from '../src/mam/handler.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}
const N = Number(arg('messages', '1000000'));
const FSYNC = arg('fsync', 'batch') as FsyncPolicy;
const KEEP = process.argv.includes('--keep');
const ROOM = 'bench@room.localhost';
const YEAR = 365 * 86_400_000;
const T0 = Date.UTC(2030, 0, 1);
const BUDGET_MS = 150_000;

const WORDS =
  'the quick brown fox jumps over lazy dog stream live chat hello world nice play gg wp lol again when'.split(' ');
function input(i: number) {
  const nick = `viewer${i % 200}`;
  let body = '';
  for (let w = 0; w < 4 + (i % 17); w++) body += WORDS[(i * 7 + w * 13) % WORDS.length] + ' ';
  return {
    ts: T0 + Math.floor((i * YEAR) / N),
    nick,
    occupantId: `occ${i % 200}-2f9a0c1e`,
    realJid: `${nick}@anon.localhost/conv${i % 977}`,
    xml: `<message xmlns="jabber:client" from="${ROOM}/${nick}" type="groupchat" id="msg-${i}-a8f3"><body>${body.trim()}</body><occupant-id xmlns="urn:xmpp:occupant-id:0" id="occ${i % 200}-2f9a0c1e"/></message>`,
  };
}

function pct(xs: number[], p: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const fmtMs = (x: number) => (x < 1 ? `${(x * 1000).toFixed(1)} µs` : `${x.toFixed(2)} ms`);
async function timeIt(n: number, fn: (i: number) => unknown): Promise<{ p50: number; p99: number }> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    xs.push(performance.now() - t);
  }
  return { p50: pct(xs, 50), p99: pct(xs, 99) };
}
function line(label: string, value: string, extra = ''): void {
  console.log(`${label.padEnd(44)} ${value.padEnd(28)} ${extra}`);
}
async function dirBytes(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const f of await readdir(dir)) {
    bytes += (await stat(join(dir, f))).size;
    files++;
  }
  return { bytes, files };
}

const dataDir = await mkdtemp(join(tmpdir(), 'bench-archive-'));
const started = performance.now();
console.log(
  `archive benchmark: ${N.toLocaleString()} messages over one year in one room, fsync=${FSYNC}, data in ${dataDir}`,
);
try {
  // ---------------------------------------------------------------- bulk load: a year of messages
  let archive = new FileArchive(dataDir, { expiry: 'never', fsync: FSYNC });
  let ra: RoomArchive = await archive.open(ROOM);
  let xmlBytes = 0;
  let appended = 0;
  async function pump(r: RoomArchive, n: number, make: (i: number) => ReturnType<typeof input>): Promise<number> {
    let done = 0;
    for (let i = 0; i < n; i++) {
      const inp = make(i);
      xmlBytes += inp.xml.length;
      r.append(inp);
      done++;
      if (i % 2000 === 1999) {
        // Yield so the batch writer runs, and stay under the write-queue bound like a live room would.
        if (r.stats().pendingBytes > 8 * 1024 * 1024) await r.whenDurable();
        else await new Promise((res) => setImmediate(res));
        if (performance.now() - started > BUDGET_MS) break;
      }
    }
    await r.flush();
    return done;
  }
  const t0 = performance.now();
  appended = await pump(ra, N, input);
  const loadMs = performance.now() - t0;
  if (appended < N) console.log(`(time budget reached: ${appended.toLocaleString()} messages appended)`);
  line(
    'bulk load (a year squeezed: 365 rotations)',
    `${(loadMs / 1000).toFixed(1)} s`,
    `${Math.round(appended / (loadMs / 1000)).toLocaleString()} msg/s`,
  );

  // ---------------------------------------------------------------- steady append throughput (live timestamps)
  const live = await archive.open('live@room.localhost');
  const liveN = Math.min(200_000, N);
  const tl = performance.now();
  const liveDone = await pump(live, liveN, (i) => ({ ...input(i), ts: undefined as unknown as number }));
  const rate = liveDone / ((performance.now() - tl) / 1000);
  await archive.closeRoom('live@room.localhost');
  await archive.deleteRoom('live@room.localhost');

  // Baseline: the same records, same batch size (what our writer wrote per batch on average), plain writes.
  const sample = Math.min(liveN, 200_000);
  const bufs: Buffer[] = [];
  for (let i = 0; i < sample; i++) bufs.push(encodeMessage({ seq: i, id: 'x'.repeat(18), ...input(i) }));
  const baseFile = join(dataDir, 'baseline.bin');
  const fh = await open(baseFile, 'a');
  const batch = Math.max(1, Math.round(rate * 0.02)); // ~ one 20 ms batch worth
  const tb = performance.now();
  for (let i = 0; i < sample; i += batch) {
    await fh.write(Buffer.concat(bufs.slice(i, i + batch)));
    if (FSYNC !== 'never') await fh.datasync();
  }
  await fh.close();
  const baseRate = sample / ((performance.now() - tb) / 1000);
  await rm(baseFile);
  line(
    'append throughput (live, one room)',
    `${Math.round(rate).toLocaleString()} msg/s`,
    `baseline plain write of same bytes: ${Math.round(baseRate).toLocaleString()} msg/s (ratio ${(rate / baseRate).toFixed(2)})`,
  );

  const roomDir = join(
    dataDir,
    'archive',
    (await readdir(join(dataDir, 'archive'))).find((d) => d.startsWith('bench'))!,
  );
  const disk = await dirBytes(roomDir);
  line(
    'bytes on disk per message',
    `${(disk.bytes / appended).toFixed(1)} B`,
    `(XML alone ${(xmlBytes / (appended + liveDone)).toFixed(1)} B; ${disk.files} files)`,
  );

  // ---------------------------------------------------------------- open time (cold room object, warm page cache)
  await archive.close();
  archive = new FileArchive(dataDir, { expiry: 'never', fsync: FSYNC });
  const to = performance.now();
  ra = await archive.open(ROOM);
  line(
    'open room (restart)',
    fmtMs(performance.now() - to),
    `${ra.stats().segments} segments, reads sidecars + active segment only`,
  );

  // ---------------------------------------------------------------- history on join
  const hj = await timeIt(20_000, () => ra.tail(20));
  const hjAsync = await timeIt(5_000, () => ra.history(20));
  // Baseline: one day of messages as JSON lines, read and parsed in full to find the last 20.
  const perDay = Math.max(1, Math.round(appended / 365));
  const dayFile = join(dataDir, 'day.jsonl');
  let jl = '';
  for (let i = appended - perDay; i < appended; i++) jl += JSON.stringify(input(i)) + '\n';
  await writeFile(dayFile, jl);
  const hjBase = await timeIt(200, async () => {
    const lines = (await readFile(dayFile, 'utf8')).split('\n');
    const out = [];
    for (const l of lines) if (l) out.push(JSON.parse(l));
    return out.slice(-20);
  });
  line(
    'history on join, tail(20) from memory',
    `p50 ${fmtMs(hj.p50)} p99 ${fmtMs(hj.p99)}`,
    `history(20): p50 ${fmtMs(hjAsync.p50)} p99 ${fmtMs(hjAsync.p99)}`,
  );
  line(
    '  baseline: read+parse day file (JSONL)',
    `p50 ${fmtMs(hjBase.p50)} p99 ${fmtMs(hjBase.p99)}`,
    `(${perDay} msgs/day; ratio ${(hjBase.p50 / hj.p50).toFixed(0)}x)`,
  );

  // ---------------------------------------------------------------- MAM pages (storage query)
  const all = await ra.query({ max: 1, index: Math.floor(appended / 2) });
  const midId = all.items[0].id;
  const iters = 500;
  const first = await timeIt(iters, () => ra.query({ max: 50 }));
  const lastPage = await timeIt(iters, () => ra.query({ max: 50, before: '' }));
  const byTime = await timeIt(iters, (i) =>
    ra.query({ max: 50, start: T0 + Math.floor((((i * 7919) % 1000) / 1000) * YEAR) }),
  );
  const midPage = await ra.query({ max: 1, index: Math.floor(appended / 2) - 1 });
  const byId = await timeIt(iters, () => ra.query({ max: 50, after: midPage.items[0].id }));
  const byIdBack = await timeIt(iters, () => ra.query({ max: 50, before: midId }));
  line('MAM page of 50: first (oldest, on disk)', `p50 ${fmtMs(first.p50)} p99 ${fmtMs(first.p99)}`);
  line("MAM page of 50: last (before='')", `p50 ${fmtMs(lastPage.p50)} p99 ${fmtMs(lastPage.p99)}`);
  line('MAM page of 50: deep, by time (start=random)', `p50 ${fmtMs(byTime.p50)} p99 ${fmtMs(byTime.p99)}`);
  line('MAM page of 50: deep, by id (after=middle)', `p50 ${fmtMs(byId.p50)} p99 ${fmtMs(byId.p99)}`);
  line('MAM page of 50: deep, by id (before=middle)', `p50 ${fmtMs(byIdBack.p50)} p99 ${fmtMs(byIdBack.p99)}`);
  const withNick = await timeIt(20, () => ra.query({ max: 50, with: { nick: 'viewer7' }, start: T0 + YEAR / 2 }));
  line(
    'MAM page of 50 with nick filter (scan)',
    `p50 ${fmtMs(withNick.p50)} p99 ${fmtMs(withNick.p99)}`,
    '(1 in 200 messages match)',
  );

  // Full protocol: parse iq, query, build 50 result stanzas.
  const iq = parseXml(
    `<iq xmlns="jabber:client" type="set" id="q" from="u@localhost/r" to="${ROOM}"><query xmlns="urn:xmpp:mam:2" queryid="x"><set xmlns="http://jabber.org/protocol/rsm"><max>50</max><after>${midPage.items[0].id}</after></set></query></iq>`,
  );
  let sent = 0;
  const access = { canRead: true, showRealJids: false, canFilterByJid: false };
  const proto = await timeIt(iters, () =>
    handleMamIq(
      iq,
      ra,
      access,
      (s) => {
        sent += s.forClient().length > 0 ? 1 : 0;
      },
      { archiveJid: ROOM },
    ),
  );
  line(
    'MAM iq, deep page of 50, incl. XML results',
    `p50 ${fmtMs(proto.p50)} p99 ${fmtMs(proto.p99)}`,
    `(${sent / iters} results serialized per query)`,
  );

  // Decoding cost vs JSON.
  const recs = Array.from({ length: 50 }, (_, i) => encodeMessage({ seq: i, id: 'abcdefgh-0123456789', ...input(i) }));
  const blob = Buffer.concat(recs);
  const jsonLines = Array.from({ length: 50 }, (_, i) =>
    JSON.stringify({ seq: i, id: 'abcdefgh-0123456789', ...input(i) }),
  );
  const dec = await timeIt(20_000, () => {
    let o = 0;
    for (let k = 0; k < 50; k++) {
      decodeMessage(blob, o);
      o += blob.readUInt32LE(o) + 8;
    }
  });
  const js = await timeIt(20_000, () => {
    for (const l of jsonLines) JSON.parse(l);
  });
  line(
    'decode 50 records',
    `p50 ${fmtMs(dec.p50)}`,
    `baseline JSON.parse of 50 lines: p50 ${fmtMs(js.p50)} (ratio ${(js.p50 / dec.p50).toFixed(2)})`,
  );

  // ---------------------------------------------------------------- memory
  global.gc?.();
  const st = archive.stats();
  const mem = process.memoryUsage();
  line(
    'hot-room cache (estimate)',
    `${(st.hotBytes / 1024).toFixed(0)} KiB`,
    `${ra.stats().tail} messages in the tail, ${st.hotRooms} hot room(s)`,
  );
  line('process RSS / heap used', `${(mem.rss / 1048576).toFixed(0)} MiB / ${(mem.heapUsed / 1048576).toFixed(0)} MiB`);
  await archive.close();
  line('total run time', `${((performance.now() - started) / 1000).toFixed(1)} s`);
} finally {
  if (KEEP) console.log(`kept ${dataDir}`);
  else await rm(dataDir, { recursive: true, force: true });
}
