// The preamble every plugin test shares: pack the plugin as PeerTube would receive it, install it with npm into a
// fresh PeerTube host emulation on a temp folder and listen; and the matching teardown.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PeerTubeHost } from './plugin-host.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs `npm run plugin:pack` and returns the tgz it made. */
export function packPlugin(): string {
  const out = execFileSync('npm', ['run', '--silent', 'plugin:pack'], { cwd: root, encoding: 'utf8' });
  const last = out.trim().split('\n').pop()!;
  if (!last.endsWith('.tgz') || !existsSync(last))
    throw new Error(`plugin:pack did not print a tgz path on its last line: ${last}`);
  return last;
}

export interface InstalledPlugin {
  host: PeerTubeHost;
  /** The host's storage folder (removed by dispose()). */
  dir: string;
  /** The tgz that was installed. */
  tgz: string;
}

/** A host on a new temp folder with the freshly packed plugin installed, listening (not yet registered). */
export async function installPlugin(prefix: string): Promise<InstalledPlugin> {
  const tgz = packPlugin();
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const host = new PeerTubeHost(dir);
  try {
    host.install(tgz);
    await host.listen();
  } catch (e) {
    await host.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { host, dir, tgz };
}

/** Unregisters (if a test has not already), closes the host and removes its folder; safe on a partial setup. */
export async function disposePlugin(p: { host?: PeerTubeHost; dir?: string }): Promise<void> {
  if (p.host) {
    await p.host.unregister().catch(() => undefined);
    await p.host.close();
  }
  if (p.dir) rmSync(p.dir, { recursive: true, force: true });
}
