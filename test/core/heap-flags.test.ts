// The standalone server's small-heap V8 flags (`heap: "small"`): off by default, each one left to the admin who
// starts node with a setting of their own for it (on the command line or in NODE_OPTIONS), and they do keep V8's
// young generation small in a running node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { heapFlagsToSet } from '../../src/heap-flags.js';
import { validateConfig } from '../../src/config.js';
import { ConfigError } from '../../src/config-schema.js';

test('config: heap is "default" unless set to "small"; anything else names the field', () => {
  assert.is(validateConfig({}).heap, 'default');
  assert.is(validateConfig({ heap: 'small' }).heap, 'small');
  assert.throws(
    () => validateConfig({ heap: 'tiny' }),
    (e: Error) => e instanceof ConfigError && /heap/.test(e.message),
  );
});

test('both flags unless node was given its own', () => {
  assert.equal(heapFlagsToSet([], ''), ['--semi-space-growth-factor=1', '--optimize-for-size']);
});

test("an admin's own young-generation or size setting wins", () => {
  assert.equal(heapFlagsToSet(['--max-semi-space-size=8'], ''), ['--optimize-for-size']);
  assert.equal(heapFlagsToSet([], '--no-optimize-for-size'), ['--semi-space-growth-factor=1']);
  assert.equal(heapFlagsToSet(['--max_semi_space_size=4', '--optimize_for_size'], undefined), []);
});

test('setting them in a running node keeps the young generation at its first size', () => {
  // A child that allocates short-lived objects for a while: without the flag V8 grows the new space to 32 MB.
  const script = `
    const v8 = require('node:v8');
    const { applySmallHeapFlags } = require(${JSON.stringify(fileURLToPath(new URL('../../dist/src/heap-flags.js', import.meta.url)))});
    if (process.argv[1] === 'on') applySmallHeapFlags([], '');
    let keep = [];
    for (let i = 0; i < 3e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; }
    const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(ns.space_size);`;
  const size = (mode: string) => {
    const r = spawnSync(process.execPath, ['-e', script, mode], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    assert.is(r.status, 0, r.stderr);
    return Number(r.stdout.trim());
  };
  const on = size('on');
  const off = size('off');
  assert.ok(on <= 2 * 1048576, `new space ${on} B with the flags`);
  assert.ok(off > 4 * on, `new space ${off} B without them: the check would not tell them apart`);
});

test.run();
