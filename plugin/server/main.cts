// The CommonJS file PeerTube require()s (package.json "library"). The chat server and the plugin are one ES module
// (plugin.mjs, bundled by the packer), loaded with import() on register: PeerTube awaits register(), and Node lets
// CommonJS import ES modules this way.
// PeerTube updates a plugin in place and require()s this file again (it clears it from require's cache), but Node
// keeps every ES module for the life of the process, by URL: the URL carries a hash of the bundle (not its mtime:
// npm packs every file with the same date), so an updated bundle is a new module and its code runs at once.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

type PluginModule = { register(o: unknown): Promise<void>; unregister(): Promise<void> };

let loaded: Promise<PluginModule> | null = null;
const load = (): Promise<PluginModule> => (loaded ??= import(bundleUrl()) as Promise<PluginModule>);

function bundleUrl(): string {
  const file = join(__dirname, 'plugin.mjs');
  return `${pathToFileURL(file).href}?v=${createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16)}`;
}

export async function register(options: unknown): Promise<void> {
  await (await load()).register(options);
}

export async function unregister(): Promise<void> {
  await (await load()).unregister();
}
