// A running server holds the code of what it uses only: the moderation bot (and re2js with it), S2S, the WebSocket
// edge, the livechat importer and the offline admin verbs are loaded when enabled or asked for, not at start.
// Checked on the built server (`dist/`), as `npm start` runs it, by recording every ES module it loads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runBuiltServerOnce } from '../helpers/cli.js';

// Module hooks (they run on the loader's thread): each loaded URL is appended to a file.
const HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.LOADED_OUT, url + '\\n');
  return next(url, context);
}`;

/** Starts dist/src/cli.js until it is ready, stops it, and returns the URLs of the modules it loaded. */
async function loadedModules(dir: string, args: string[]): Promise<string[]> {
  const hooks = join(dir, 'hooks.mjs');
  const register = join(dir, 'register.mjs');
  const out = join(dir, 'loaded.txt');
  await writeFile(hooks, HOOKS);
  await writeFile(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
  await rm(out, { force: true });
  await runBuiltServerOnce(['--import', register], args, { LOADED_OUT: out });
  return (await readFile(out, 'utf8')).split('\n').filter(Boolean);
}

const LAZY = [
  '/dist/src/bot/moderation-bot.js',
  '/node_modules/re2js/',
  '/dist/src/s2s/service.js',
  '/dist/src/edge/supervisor.js',
  '/dist/src/import/livechat/import.js',
  '/dist/src/admin/offline.js',
];
const loadedOf = (modules: string[], parts: string[]) => parts.filter((p) => modules.some((m) => m.includes(p)));

test('a default server loads neither the bot, re2js, S2S, the edge, the importer nor the offline verbs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lazy-modules-'));
  try {
    const modules = await loadedModules(dir, ['--data', join(dir, 'data')]);
    assert.ok(
      modules.some((m) => m.endsWith('/dist/src/muc/service.js')),
      'the module list is read (the MUC service is in it)',
    );
    assert.equal(loadedOf(modules, LAZY), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('enabled, the bot (with re2js) and S2S are loaded at start', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lazy-modules-'));
  try {
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ bot: { enabled: true } }));
    const modules = await loadedModules(dir, ['--data', join(dir, 'data'), '--config', config, '--s2s-port', '0']);
    assert.equal(loadedOf(modules, LAZY), [
      '/dist/src/bot/moderation-bot.js',
      '/node_modules/re2js/',
      '/dist/src/s2s/service.js',
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
