// The node flags the standalone server starts with (package.json's start script, src/node-flags.ts): `npm start`
// runs the server with them in effect, a flag of the user's own replaces the same one of them in the benchmark's
// launch, the small-heap switch still applies over them, and a NODE_OPTIONS setting they hide is reported.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  envOfStartScript,
  flagsOfStartScript,
  overriddenNodeOptions,
  serverEnv,
  serverNodeFlags,
  withUserFlags,
} from '../../src/node-flags.js';
import { smallHeapFlagsFor } from '../../src/heap-flags.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** V8's heap limit in MB for a plain node given `flags`. */
function heapLimit(flags: string[]): number {
  const r = spawnSync(
    process.execPath,
    [...flags, '-e', 'console.log(Math.round(require("v8").getHeapStatistics().heap_size_limit / 1048576))'],
    { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  assert.is(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

/** `npm start` on a fresh data folder until the server logs its heap line; the output so far, then stopped. */
async function npmStart(env: NodeJS.ProcessEnv): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'start-flags-'));
  // its own process group, so the server below npm and its shell is stopped with it
  const child = spawn(
    'npm',
    ['start', '--', '--http-port', '0', '--c2s-port', '0', '--data', join(dir, 'data'), '--log-level', 'info'],
    { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no heap line within 60 s:\n${out}`)), 60_000);
      const on = (d: Buffer) => {
        out += d.toString();
        if (/V8 heap limit \d+ MB/.test(out)) {
          clearTimeout(t);
          resolve(out);
        }
      };
      child.stdout.on('data', on);
      child.stderr.on('data', on);
      child.once('exit', (code) => reject(new Error(`npm start exited (${code}):\n${out}`)));
    });
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
}

test('the start script gives node a young-generation maximum, read back as the server flags', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
  assert.equal(serverNodeFlags(), flagsOfStartScript(pkg.scripts.start));
  assert.ok(
    serverNodeFlags().some((f) => f.startsWith('--max-semi-space-size=')),
    pkg.scripts.start,
  );
  assert.equal(flagsOfStartScript('node --a=1 --b dist/src/cli.js'), ['--a=1', '--b']);
  assert.equal(flagsOfStartScript('A=1 B_2=x node --a=1 dist/src/cli.js'), ['--a=1']);
  assert.throws(() => flagsOfStartScript('tsx src/cli.ts'), /does not run node/);
  assert.throws(() => flagsOfStartScript('A=1 tsx src/cli.ts'), /does not run node/);
});

test('the start script limits glibc to two malloc arenas; the environment read back keeps a value of the user', () => {
  assert.equal(envOfStartScript('A=1 B_2=x node --a=1 dist/src/cli.js'), { A: '1', B_2: 'x' });
  assert.equal(envOfStartScript('node dist/src/cli.js'), {});
  assert.is(serverEnv({}).MALLOC_ARENA_MAX, '2');
  assert.is(serverEnv({ MALLOC_ARENA_MAX: '8' }).MALLOC_ARENA_MAX, '8');
});

test('npm start runs the server with those flags in effect', async () => {
  const flags = serverNodeFlags();
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
  delete env.MALLOC_ARENA_MAX;
  const out = await npmStart(env);
  const m = /node v[\d.]+(?: (.*))?: V8 heap limit (\d+) MB/.exec(out)!;
  const given = (m[1] ?? '').split(' ');
  for (const f of flags) assert.ok(given.includes(f), `${f} not among the server's flags: ${m[0]}`);
  assert.is(Number(m[2]), heapLimit(flags));
  assert.is.not(heapLimit(flags), heapLimit([]), 'the flags do not change the heap limit: the check would not tell');
  assert.match(out, /V8 heap limit \d+ MB, MALLOC_ARENA_MAX=2\b/, 'the server does not run with two malloc arenas');
});

test("a NODE_OPTIONS setting the start script hides is reported with the way to choose one's own", async () => {
  const out = await npmStart({ ...process.env, NODE_OPTIONS: '--max-semi-space-size=16' });
  assert.match(out, /warning: NODE_OPTIONS --max-semi-space-size=16 is not in effect/);
  assert.match(out, /run node <flags> dist\/src\/cli\.js/);
  assert.equal(overriddenNodeOptions(['--max-semi-space-size=4'], '--max_semi_space_size=4 --trace-gc'), [
    '--max_semi_space_size=4',
  ]);
  assert.equal(overriddenNodeOptions(['--max-semi-space-size=4'], '--max-semi-space-size=4'), []);
  assert.equal(overriddenNodeOptions([], undefined), []);
});

test("a flag of the user's own replaces the same one of the server's (the benchmark's launch)", () => {
  assert.equal(withUserFlags(['--max-semi-space-size=4', '--x=1'], ['--max_semi_space_size=16', '--trace-gc']), [
    '--x=1',
    '--max_semi_space_size=16',
    '--trace-gc',
  ]);
  assert.equal(withUserFlags(['--optimize-for-size'], ['--no-optimize-for-size']), ['--no-optimize-for-size']);
  assert.equal(withUserFlags(['--a=1'], []), ['--a=1']);
});

test('heap "small" still keeps the young generation at its first size over the start flags', () => {
  assert.ok(smallHeapFlagsFor(serverNodeFlags(), '').includes('--semi-space-growth-factor=1'));
  assert.not.ok(
    smallHeapFlagsFor([...serverNodeFlags(), '--max-semi-space-size=16'], '').includes('--semi-space-growth-factor=1'),
  );
});

test.run();
