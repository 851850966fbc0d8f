// Replays scansion scripts given on the command line, for debugging one transcript:
//   SCANSION_TARGET=prosody node --import tsx test/scansion/cli.ts path/to/file.scs [...]
// Same environment variables as scansion.test.ts; prints every step's log, exits 1 on a failure.
// Waivers from waivers.ts apply by file name.
import path from 'node:path';
import { runScript } from './run.js';
import { targetFromEnv } from './target.js';
import { elementFilter, waiversFor } from './waivers.js';

const files = process.argv.slice(2);
if (!files.length) {
  console.error('usage: node --import tsx test/scansion/cli.ts FILE.scs [...]');
  process.exit(2);
}
const target = await targetFromEnv();
const why = await target.unavailable();
if (why) {
  console.error(`target ${target.name} unavailable: ${why}`);
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  const w = waiversFor(path.basename(file), target.name);
  const server = await target.start();
  try {
    const res = await runScript(file, {
      endpoint: server.endpoint,
      timeoutMs: Number(process.env.SCANSION_TIMEOUT_MS ?? 5000),
      waivers: w.steps,
      ignoreExpected: elementFilter(w.elements),
      log: (l) => console.log(l),
    });
    if (res.passed) {
      console.log(
        `PASS    ${file}${res.unlisted.length ? ` (${res.unlisted.length} unlisted stanza(s) skipped)` : ''}`,
      );
    } else {
      failed++;
      console.log(`FAIL    ${file}: ${res.failure}`);
      if (server.diagnostics) console.log(await server.diagnostics());
    }
  } finally {
    await server.stop();
  }
}
process.exit(failed ? 1 : 0);
