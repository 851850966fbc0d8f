// Background work waits for an idle event loop (src/loop-idleness.ts): the web chat's compression ahead of time and
// the avatars drawn ahead never start in the middle of a burst, and still happen once it is over (or at the latest).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoopIdleness, whenIdle } from '../../src/loop-idleness.js';

/** Keeps the event loop busy for `ms`, letting timers run every 20 ms. */
async function busyFor(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const slice = Date.now() + 20;
    while (Date.now() < slice);
    await new Promise((r) => setImmediate(r));
  }
}

test('LoopIdleness tells a busy interval from an idle one', async () => {
  const m = new LoopIdleness();
  await busyFor(150);
  assert.not.ok(m.wasIdle(), 'a busy interval counted as idle');
  await sleep(150);
  assert.ok(m.wasIdle(), 'an idle interval counted as busy');
});

test('an idle loop is idle while V8 profiles it (--cpu-prof), and a busy one busy', async () => {
  // The event loop's utilization alone reads ~0.8 on an idle loop under the profiler: the avatars drawn ahead and the
  // web chat's compression then never ran in a profiled server.
  const dir = await mkdtemp(join(tmpdir(), 'idleness-'));
  try {
    const module = fileURLToPath(new URL('../../src/loop-idleness.ts', import.meta.url));
    const script = join(dir, 'probe.mts');
    await writeFile(
      script,
      `import { LoopIdleness } from ${JSON.stringify(module)};
// The process's own start-up (module loading, the profiler and loader threads) is not an idle loop: let it pass.
await new Promise((r) => setTimeout(r, 300));
const m = new LoopIdleness();
await new Promise((r) => setTimeout(r, 200));
const idle = m.wasIdle();
const end = Date.now() + 200;
while (Date.now() < end) await new Promise((r) => setImmediate(r));
console.log(JSON.stringify({ idle, busy: !m.wasIdle() }));
`,
    );
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--cpu-prof', '--cpu-prof-dir', dir, '--import', 'tsx', script],
        { cwd: fileURLToPath(new URL('../..', import.meta.url)), timeout: 30_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout)),
      ),
    );
    assert.equal(JSON.parse(out.trim().split('\n').at(-1)!), { idle: true, busy: true });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('whenIdle runs once, after afterMs, on an idle loop', async () => {
  let ran = 0;
  const t0 = Date.now();
  let at = 0;
  whenIdle(
    () => {
      ran++;
      at = Date.now() - t0;
    },
    { afterMs: 150, everyMs: 50 },
  );
  await sleep(100);
  assert.is(ran, 0, 'ran before afterMs');
  await sleep(300);
  assert.is(ran, 1);
  assert.ok(at >= 145, `ran after ${at} ms`);
});

test('whenIdle waits while the loop is busy and runs once it is idle; cancel stops it', async () => {
  let ran = 0;
  whenIdle(() => ran++, { afterMs: 20, everyMs: 50 });
  await busyFor(400);
  assert.is(ran, 0, 'ran in the middle of a burst');
  await sleep(300);
  assert.is(ran, 1, 'did not run once the burst was over');
  let cancelled = 0;
  const cancel = whenIdle(() => cancelled++, { afterMs: 50, everyMs: 50 });
  cancel();
  await sleep(200);
  assert.is(cancelled, 0, 'ran after cancel');
});

test('whenIdle runs anyway at latestMs when the loop never rests', async () => {
  let ran = 0;
  whenIdle(() => ran++, { afterMs: 20, everyMs: 40, latestMs: 200 });
  await busyFor(500);
  assert.is(ran, 1, 'never ran though the latest time had passed');
});

test.run();
