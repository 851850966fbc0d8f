// Import of a livechat Prosody archive: one room whose mod_muc_mam file holds N messages in the exact form Prosody
// 0.12 writes them (stanza tables with body, occupant-id and muc#user item), imported with importLivechatProsody.
//   node --expose-gc --import tsx bench/import-livechat.ts [--messages 100000]
// Baseline in the same run: appending the same records straight into the archive (what the import does minus reading
// and parsing Prosody's files), so the difference is the cost of the Lua reader and the conversion. Also prints the
// peak RSS, which stays flat because the archive file is read one entry at a time.
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileArchive } from '../src/storage/archive.js';
import { importLivechatProsody } from '../src/import/livechat/index.js';
import { archiveRecordFromProsody } from '../src/import/livechat/import.js';

const i = process.argv.indexOf('--messages');
const N = i >= 0 ? Number(process.argv[i + 1]) : 100_000;
const T0 = 1_700_000_000;

function entry(n: number): string {
  const nick = `viewer${n % 200}`;
  return `item({
\t{
\t\t"message number ${n} from ${nick} caf\\195\\169 \\"quoted\\"";
\t\t["name"] = "body";
\t\t["attr"] = {};
\t};
\t{
\t\t["attr"] = {
\t\t\t["id"] = "occ${n % 200}/WUHBCLuEWDqt0ftMVw8=";
\t\t\t["xmlns"] = "urn:xmpp:occupant-id:0";
\t\t};
\t\t["name"] = "occupant-id";
\t};
\t{
\t\t{
\t\t\t["attr"] = {
\t\t\t\t["affiliation"] = "none";
\t\t\t\t["role"] = "participant";
\t\t\t\t["jid"] = "${nick}@anon.localhost/conv";
\t\t\t};
\t\t\t["name"] = "item";
\t\t};
\t\t["name"] = "x";
\t\t["attr"] = {
\t\t\t["xmlns"] = "http://jabber.org/protocol/muc#user";
\t\t};
\t};
\t["attr"] = {
\t\t["stamp"] = "2023-11-14T22:13:20Z";
\t\t["xml:lang"] = "en";
\t\t["id"] = "m${n}";
\t\t["from"] = "bench@room.localhost/${nick}";
\t\t["type"] = "groupchat";
\t};
\t["key"] = "k${n.toString(36).padStart(24, '0')}";
\t["with"] = "message<groupchat";
\t["when"] = ${T0 + Math.floor(n / 10)};
\t["name"] = "message";
});
`;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-import-'));
  try {
    const prosody = join(dir, 'prosody');
    await mkdir(join(prosody, 'room%2elocalhost', 'config'), { recursive: true });
    await mkdir(join(prosody, 'room%2elocalhost', 'muc_log'));
    await writeFile(
      join(prosody, 'room%2elocalhost', 'config', 'bench.dat'),
      'return { ["_jid"] = "bench@room.localhost"; ["_data"] = { ["name"] = "Bench" }; };\n',
    );
    const parts: string[] = [];
    for (let n = 0; n < N; n++) parts.push(entry(n));
    const listFile = join(prosody, 'room%2elocalhost', 'muc_log', 'bench.list');
    await writeFile(listFile, parts.join(''));
    const listBytes = (await stat(listFile)).size;

    let peak = process.memoryUsage().rss;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    (globalThis as { gc?: () => void }).gc?.();
    const rssBefore = process.memoryUsage().rss;
    const heapBefore = process.memoryUsage().heapUsed;
    let t = process.hrtime.bigint();
    const report = await importLivechatProsody({
      prosodyDataDir: prosody,
      dataDir: join(dir, 'ours'),
      mucHost: 'room.localhost',
      archive: { expiry: 'never' },
    });
    const importMs = Number(process.hrtime.bigint() - t) / 1e6;
    clearInterval(timer);
    const gc = (globalThis as { gc?: () => void }).gc;
    let heapNote = '';
    if (gc) {
      gc();
      heapNote = `, heap after import and GC: ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB (before: ${(heapBefore / 1e6).toFixed(0)} MB)`;
    }
    if (report.rooms[0]?.messages !== N || report.errors.length)
      throw new Error(`import incomplete: ${JSON.stringify(report).slice(0, 300)}`);

    // Baseline: the same converted records appended directly.
    const records = [];
    const sample = await (async () => {
      const out = [];
      const { readArchive } = await import('../src/import/livechat/prosody-data.js');
      for await (const it of readArchive(prosody, 'bench@room.localhost', (m) => {
        throw new Error(m);
      }))
        out.push(it);
      return out;
    })();
    for (const it of sample) records.push(archiveRecordFromProsody(it.stanza, it.when, 'bench@room.localhost')!);
    const base = new FileArchive(join(dir, 'base'), { expiry: 'never', pruneIntervalSeconds: 0 });
    t = process.hrtime.bigint();
    const ra = await base.open('bench@room.localhost');
    for (let n = 0; n < records.length; n++) {
      ra.append(records[n]);
      if ((n + 1) % 2000 === 0) await ra.flush();
    }
    await ra.flush();
    await base.close();
    const baseMs = Number(process.hrtime.bigint() - t) / 1e6;

    const rate = (ms: number) => Math.round(N / (ms / 1000)).toLocaleString('en');
    console.log(`messages: ${N.toLocaleString('en')}  Prosody archive file: ${(listBytes / 1e6).toFixed(1)} MB`);
    console.log(`import (read + parse + convert + append): ${importMs.toFixed(0)} ms  = ${rate(importMs)} msg/s`);
    console.log(`baseline (append the converted records):  ${baseMs.toFixed(0)} ms  = ${rate(baseMs)} msg/s`);
    console.log(
      `RSS during import: ${(rssBefore / 1e6).toFixed(0)} MB before, ${(peak / 1e6).toFixed(0)} MB peak${heapNote}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
