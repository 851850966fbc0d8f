// Runs every test file (test/**/*.test.ts) in its own process, sequentially, and ends with the line
// "N passed, N failed" that CI reads. Arguments filter files by substring: `npm test -- core muc`.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const FILE_TIMEOUT_MS = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 10 * 60_000);

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'node_modules' && name !== 'fixtures' && name !== 'helpers') out.push(...findTests(p));
    } else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

interface Result {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  seconds: number;
  note?: string;
}

function runFile(file: string): Promise<Result> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const num = (label: string) => Number(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm').exec(out)?.[1] ?? NaN);
      const total = num('Total');
      const passed = num('Passed');
      const skipped = num('Skipped') || 0;
      const seconds = (Date.now() - started) / 1000;
      const rel = relative(root, file);
      if (Number.isNaN(total) || Number.isNaN(passed)) {
        done({
          file: rel,
          passed: 0,
          failed: 1,
          skipped: 0,
          seconds,
          note: signal ? `killed (${signal})` : `no uvu summary, exit ${code}`,
        });
        return;
      }
      let failed = total - passed - skipped;
      let note: string | undefined;
      if (code !== 0 && failed === 0) {
        failed = 1;
        note = `exit ${code ?? signal}`;
      }
      done({ file: rel, passed, failed, skipped, seconds, note });
    });
  });
}

const filters = process.argv.slice(2);
const files = findTests(join(root, 'test')).filter(
  (f) => filters.length === 0 || filters.some((x) => relative(root, f).includes(x)),
);
const results: Result[] = [];
for (const f of files) {
  console.log(`\n=== ${relative(root, f)}`);
  results.push(await runFile(f));
}
console.log('\nper file:');
for (const r of results) {
  console.log(
    `  ${r.failed ? 'FAIL' : 'ok  '} ${r.file}: ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''} (${r.seconds.toFixed(1)}s)${r.note ? ` — ${r.note}` : ''}`,
  );
}
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
const skipped = results.reduce((n, r) => n + r.skipped, 0);
if (files.length === 0) console.log('no test files matched');
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
