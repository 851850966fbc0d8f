// Conformance (issue 9): replays Prosody's scansion transcripts (../shared/scansion/) against a
// server and prints one summary line per file. A file fails CI unless it passes or is waived in
// waivers.ts. Target: SCANSION_TARGET=ours (default, our createServer in test mode) or prosody
// (Debian's Prosody, to validate this tool). SCANSION_TRANSPORT=websocket (default) or tcp.
// SCANSION_ONLY=name[,name] runs a subset; SCANSION_VERBOSE=1 prints connect details; SCANSION_DIR overrides where
// the transcripts are (default ../shared/scansion/; missing transcripts fail the suite).
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runScript, type RunResult } from './run.js';
import { targetFromEnv } from './target.js';
import { NOT_BUILT, elementFilter, waiversFor } from './waivers.js';

const DIR = process.env.SCANSION_DIR ?? fileURLToPath(new URL('../../../shared/scansion/', import.meta.url));
const only = (process.env.SCANSION_ONLY ?? '')
  .split(',')
  .map((s) => s.trim().replace(/\.scs$/, ''))
  .filter(Boolean);
// The transcripts live beside the repository (../shared/scansion/); a clone without them fails with that message.
const missing = existsSync(DIR)
  ? undefined
  : `the scansion transcripts are missing: ${DIR} does not exist (put the shared folder with scansion/*.scs beside this repository)`;
const files = (missing ? [] : readdirSync(DIR))
  .filter((f) => f.endsWith('.scs'))
  .filter((f) => !only.length || only.includes(f.replace(/\.scs$/, '')))
  .sort();
const target = await targetFromEnv();
const unavailable = await target.unavailable();
const verbose = process.env.SCANSION_VERBOSE === '1';
const timeoutMs = Number(process.env.SCANSION_TIMEOUT_MS ?? 5000);

const S = suite(`scansion (${target.name})`);
const counts = { pass: 0, waived: 0, fail: 0, notBuilt: 0 };
const summary: string[] = [];
/** One line per file: printed at once when verbose, and all together at the end. */
const report = (line: string) => {
  summary.push(line);
  if (verbose) console.log(line);
};
const indent = (s: string) =>
  s
    .split('\n')
    .map((l) => '      ' + l)
    .join('\n');

S('transcripts and target available', () => {
  assert.is(missing, undefined, missing);
  assert.is(unavailable, undefined, `${target.name}: ${unavailable}`);
  assert.ok(files.length > 0, `no .scs files in ${DIR}`);
});

// Without transcripts or a target the one failing test above says why; nothing else runs.
if (!missing && !unavailable) {
  const runNotBuilt = process.env.SCANSION_NOT_BUILT === 'run';
  for (const file of files) {
    if (target.name === 'ours' && NOT_BUILT[file] && !runNotBuilt) {
      report(`NOT BUILT ${file}: ${NOT_BUILT[file]}`);
      counts.notBuilt++;
      S.skip(file, () => {});
      continue;
    }
    S(file, async () => {
      const w = waiversFor(file, target.name);
      const server = await target.start();
      let res: RunResult;
      try {
        res = await runScript(path.join(DIR, file), {
          endpoint: server.endpoint,
          timeoutMs,
          waivers: w.steps,
          ignoreExpected: elementFilter(w.elements),
          log: verbose ? (l) => console.log(l) : undefined,
        });
        if (!res.passed && verbose && server.diagnostics) console.log(indent(await server.diagnostics()));
      } finally {
        await server.stop();
      }
      const waivedSteps = res.steps.filter((s) => s.waived);
      const notes = [
        ...(res.unlisted.length ? [`${res.unlisted.length} unlisted stanza(s) skipped`] : []),
        ...waivedSteps.map((s) => `line ${s.line} waived: ${s.waived}`),
        ...w.elements.map((e) => `ignoring <${e.name ?? '*'} xmlns='${e.ns}'>: ${e.reason}`),
      ];
      if (res.passed && !w.file) {
        counts.pass++;
        report(`PASS    ${file}${notes.length ? ` (${notes.join('; ')})` : ''}`);
      } else if (w.file) {
        counts.waived++;
        const outcome = res.passed ? 'passes anyway: remove the waiver?' : `fails at ${res.failure?.split('\n')[0]}`;
        report(`WAIVED  ${file}: ${w.file.reason} [${outcome}]`);
      } else {
        counts.fail++;
        report(`FAIL    ${file}: ${res.failure?.split('\n')[0]}`);
      }
      assert.ok(res.passed || w.file, `${file}: ${res.failure}`);
    });
  }

  S.after(() => {
    console.log('\n' + summary.join('\n'));
    console.log(
      `\nscansion (${target.name}, ${process.env.SCANSION_TRANSPORT ?? 'websocket'}): ` +
        `${counts.pass} passed, ${counts.waived} waived, ${counts.fail} failed, ${counts.notBuilt} not built, of ${files.length} transcripts`,
    );
  });
}

S.run();
