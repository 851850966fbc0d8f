// Builds the PeerTube plugin package ("type": "module"): the server and plugin code compiled together, then bundled
// into one ES module (dist/plugin/server/plugin.mjs, npm packages left as imports) beside the CommonJS entry
// dist/plugin/server/main.cjs; the client script, CSS, static files and translations, and a package.json whose
// dependencies are the server's runtime dependencies. Prints the .tgz path on its last line.
// One module because Node caches ES modules for the process's life: main.cjs imports the bundle under a URL that
// changes with it, so a plugin updated in place runs its new code (a tree of modules would stay the old one).
// ConverseJS's browser files are shipped inside the package (dist/converse.js/) instead of being a dependency:
// PeerTube installs plugins with yarn 1 (7.x) or pnpm (8.x), and both refuse converse.js 14 from the registry
// because of its `"@converse/log": "file:src/log"` dependency (only npm resolves it inside the package).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'build', 'plugin-pkg');
const pluginDir = join(root, 'plugin');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
execFileSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(pluginDir, 'tsconfig.build.json')],
  { stdio: 'inherit' },
);
const serverDir = join(out, 'dist', 'plugin', 'server');
/** One ES-module bundle of our own code for Node; dependencies stay in node_modules. */
const bundleFor = (entry, outfile) =>
  build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
await bundleFor(join(serverDir, 'lib', 'plugin.js'), join(serverDir, 'plugin.mjs'));
// The WebSocket edge (websocket.edge = process) runs in a child process: its entry is a bundle of its own, which
// the server looks for beside its bundle.
await bundleFor(join(out, 'dist', 'src', 'edge', 'child.js'), join(serverDir, 'edge-child.mjs'));
// The bundle sits two folders below dist/ like dist/src/webchat/assets.js, so its relative lookup of the
// shipped ConverseJS (dist/converse.js) is the same.
for (const d of ['lib', 'federation']) rmSync(join(serverDir, d), { recursive: true });
rmSync(join(out, 'dist', 'src'), { recursive: true });
for (const dir of ['client', 'assets', 'static', 'languages'])
  cpSync(join(pluginDir, dir), join(out, dir), { recursive: true });
cpSync(join(pluginDir, 'README.md'), join(out, 'README.md'));

const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(pluginDir, 'package.json'), 'utf8'));
pkg.version = rootPkg.version;
pkg.dependencies = { ...rootPkg.dependencies };
delete pkg.dependencies['converse.js'];
vendorConverse(join(out, 'dist', 'converse.js'));
writeFileSync(join(out, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
for (const f of [
  pkg.library,
  ...pkg.css,
  ...pkg.clientScripts.map((c) => c.script),
  ...Object.values(pkg.translations),
]) {
  if (!existsSync(join(out, f))) throw new Error(`plugin package: ${f} is missing`);
}

const dest = join(root, 'build');
const result = JSON.parse(
  execFileSync('npm', ['pack', '--json', '--pack-destination', dest], { cwd: out, encoding: 'utf8' }),
);
console.log(resolve(dest, result[0].filename));

/** Copies what a browser loads from converse.js (its dist/, no source maps) with its version and licence. */
function vendorConverse(dest) {
  const src = join(root, 'node_modules', 'converse.js');
  const cpkg = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8'));
  mkdirSync(dest, { recursive: true });
  writeFileSync(
    join(dest, 'package.json'),
    JSON.stringify(
      { name: cpkg.name, version: cpkg.version, license: cpkg.license, homepage: cpkg.homepage },
      null,
      2,
    ) + '\n',
  );
  cpSync(join(src, 'LICENSE'), join(dest, 'LICENSE'));
  cpSync(join(src, 'dist'), join(dest, 'dist'), { recursive: true, filter: (f) => !f.endsWith('.map') });
}
