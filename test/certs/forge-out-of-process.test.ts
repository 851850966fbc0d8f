// node-forge stays out of the running server: the self-signed certificate is made by a child process on a fresh
// data folder, and a restart that reuses it imports forge not at all. Checked on the built server (`dist/`), as
// `npm start` runs it, by listing the CommonJS modules the server process loaded when it stops.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBuiltServerOnce } from '../helpers/cli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

// Preloaded into the server: at exit, the paths of every CommonJS module it loaded (forge is CommonJS).
const PRELOAD = `process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED_OUT, Object.keys(require.cache).join('\\n')));`;

/** Starts dist/src/cli.js on `data` until it is ready, stops it, and returns the CommonJS modules it had loaded. */
async function loadedModules(dir: string, data: string): Promise<{ modules: string[]; log: string }> {
  const preload = join(dir, 'preload.cjs');
  const out = join(dir, 'loaded.txt');
  await writeFile(preload, PRELOAD);
  await rm(out, { force: true });
  const log = await runBuiltServerOnce(['--require', preload], ['--data', data], { LOADED_OUT: out });
  return { modules: (await readFile(out, 'utf8')).split('\n'), log };
}

const forge = (modules: string[]) => modules.filter((m) => /[\\/]node-forge[\\/]/.test(m));

test('a fresh server makes its certificate without loading node-forge, and a restart reusing it neither', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'forge-out-'));
  try {
    const data = join(dir, 'data');
    const fresh = await loadedModules(dir, data);
    assert.match(fresh.log, /making a self-signed certificate/);
    assert.not.match(fresh.log, /in the server process/, 'made by the child, not after a fallback');
    const x = new X509Certificate(await readFile(join(data, 'certs', 'localhost.crt'), 'utf8'));
    assert.ok(x.subjectAltName?.includes('DNS:anon.localhost'), x.subjectAltName);
    assert.ok(
      fresh.modules.some((m) => m.includes('ws')),
      'the module list is read (ws is CommonJS too)',
    );
    assert.equal(forge(fresh.modules), [], 'fresh start: forge not in the server process');
    const again = await loadedModules(dir, data);
    assert.not.match(again.log, /making a self-signed certificate/);
    assert.equal(forge(again.modules), [], 'restart: forge not in the server process');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the child makes a certificate for the given names; from source (or a bundle) there is none to run and the caller falls back', async () => {
  const built = (await import(
    join(root, 'dist/src/certs/self-signed-child.js')
  )) as typeof import('../../src/certs/self-signed-child.js');
  const { certPem, keyPem } = await built.generateInChild(['example.test', '*.example.test']);
  const x = new X509Certificate(certPem);
  assert.is(x.subject.trim(), 'CN=example.test');
  assert.ok(x.checkPrivateKey((await import('node:crypto')).createPrivateKey(keyPem)));
  const { generateInChild } = await import('../../src/certs/self-signed-child.js');
  await generateInChild(['example.test']).then(
    () => assert.unreachable('a plain node child cannot load the .ts generator'),
    (e: Error) => assert.match(e.message, /no compiled certificate generator/),
  );
});

test.run();
