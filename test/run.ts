// Runs every test file (test/**/*.test.ts) in its own process, sequentially, and ends with the line
// "N passed, N failed" that CI reads. Arguments filter files by substring: `npm test -- core muc`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readProc } from '../bench/live/procstat.js';

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

const REPORT_WAIT_MS = 3000;

/**
 * What a test file that ran out of time was doing: Node's diagnostic report (asked for with SIGUSR2 before the kill)
 * gives its JavaScript stack and what kept its event loop alive, so a hang seen once in CI can be understood later.
 */
function describeReport(dir: string, cpuSeconds: number | undefined): string {
  const name = readdirSync(dir).find((f) => f.endsWith('.json'));
  if (!name) {
    const cpu =
      cpuSeconds === undefined
        ? ''
        : `; it used ${cpuSeconds.toFixed(1)} s of CPU in the last ${REPORT_WAIT_MS / 1000} s`;
    return `  no diagnostic report: its main thread did not get back to the event loop (a synchronous loop, or stuck in native code${cpu})`;
  }
  const report = JSON.parse(readFileSync(join(dir, name), 'utf8')) as {
    javascriptStack?: { message?: string; stack?: string[] };
    libuv?: Array<{ type: string; is_active?: boolean; is_referenced?: boolean; [k: string]: unknown }>;
  };
  const stack = (report.javascriptStack?.stack ?? []).filter((f) => f.trim() && !f.includes('Unavailable'));
  const lines = [
    stack.length ? '  JavaScript stack (running code):' : '  no JavaScript running: idle, waiting for events',
  ];
  for (const frame of stack.slice(0, 15)) lines.push(`    ${frame.trim()}`);
  lines.push('  what kept the event loop alive (active, referenced libuv handles):');
  for (const h of report.libuv ?? []) {
    if (!h.is_active || !h.is_referenced) continue;
    const detail = ['remoteEndpoint', 'localEndpoint', 'firesInMsFromNow', 'filename', 'signum']
      .filter((k) => h[k] !== undefined)
      .map((k) => `${k} ${JSON.stringify(h[k])}`)
      .join(', ');
    lines.push(`    ${h.type}${detail ? `: ${detail}` : ''}`);
  }
  return lines.join('\n');
}

function runFile(file: string): Promise<Result> {
  const started = Date.now();
  const reportDir = mkdtempSync(join(tmpdir(), 'test-report-'));
  return new Promise((done) => {
    const args = ['--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${reportDir}`];
    const child = spawn(process.execPath, [...args, '--import', 'tsx', file], {
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
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      const cpuBefore = child.pid ? readProc(child.pid)?.cpuSeconds : undefined;
      child.kill('SIGUSR2');
      killer = setTimeout(() => {
        const cpuAfter = child.pid ? readProc(child.pid)?.cpuSeconds : undefined;
        const used = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
        console.log(`\n${relative(root, file)} ran out of time (${FILE_TIMEOUT_MS / 1000} s); what it was doing:`);
        console.log(describeReport(reportDir, used));
        child.kill('SIGKILL');
      }, REPORT_WAIT_MS);
    }, FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      rmSync(reportDir, { recursive: true, force: true });
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
          note: timedOut
            ? `out of time after ${FILE_TIMEOUT_MS / 1000} s, killed`
            : signal
              ? `killed (${signal})`
              : `no uvu summary, exit ${code}`,
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
