// The source tree has no runtime import cycles (a cycle makes module initialisation order matter and ties
// concerns together that should meet through an interface).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { folderCycles, importCycles, runtimeImports } from '../helpers/import-graph.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

test('the walker finds a cycle, and ignores type-only imports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cycles-'));
  try {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'a.ts'), "import { b } from './sub/b.js';\nexport const a = 1;\n");
    writeFileSync(join(dir, 'sub', 'b.ts'), "import {\n  a,\n} from '../a.js';\nexport const b = a;\n");
    writeFileSync(
      join(dir, 'c.ts'),
      "import type { A } from './d.js';\nimport { type D } from './d.js';\nexport type C = 1;\n",
    );
    writeFileSync(join(dir, 'd.ts'), "export * from './c.js';\nexport type A = 1; export type D = 2;\n");
    assert.equal(importCycles(dir), [['a.ts', 'sub/b.ts']]);
    assert.equal(runtimeImports(join(dir, 'c.ts')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('src/ has no runtime import cycles', () => {
  const cycles = importCycles(SRC);
  assert.equal(cycles, [], `import cycles in src/:\n${cycles.map((c) => '  ' + c.join(' ↔ ')).join('\n')}`);
});

test('the folders of src/ (muc, mam, xmpp, storage…) depend on each other one way, type imports included', () => {
  const cycles = folderCycles(SRC);
  assert.equal(cycles, [], `folder cycles in src/:\n${cycles.map((c) => '  ' + c.join(' ↔ ')).join('\n')}`);
});

test.run();
