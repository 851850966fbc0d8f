// The web chat's compressed bodies for our servers' fresh data folders. A server compresses converse.min.js and
// its CSS (brotli 11, gzip 9: ~3.5 s of a core, in a child process) only at the first start with a given ConverseJS
// and keeps them in <data>/cache/webchat; every later start, the restart a live's storm usually meets included,
// reads them back. A benchmark's server starts on an empty data folder, so it compressed them 15 s after start:
// in the middle of its first storm, on the core the load generator and V8's helper threads share, its child counted
// as "other programs". The bodies are made once per machine (and ConverseJS) in a folder of their own, and copied
// into each server's data folder before it starts: its first storm meets a server as a restart leaves it.
import { cp, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssetStore } from '../../src/webchat/assets.js';
import { webchatCacheDir } from '../../src/webchat/body-cache.js';

/** Kept between runs: the bodies only change with the installed ConverseJS (their names say which). */
const SHARED = join(tmpdir(), 'bench-live-webchat-cache');

let made: Promise<void> | undefined;

/** Compresses what the shared folder lacks (once per process; nothing when an earlier run made it all). */
function makeShared(log: (s: string) => void): Promise<void> {
  made ??= (async () => {
    const started = performance.now();
    await mkdir(SHARED, { recursive: true });
    await (await AssetStore.load({ cacheDir: SHARED })).warm();
    const s = (performance.now() - started) / 1000;
    if (s > 1)
      log(`web chat bodies compressed once for this machine's benchmark runs in ${s.toFixed(1)} s (${SHARED})`);
  })();
  return made;
}

/** Puts the web chat's compressed bodies into a server's (new) data folder. */
export async function seedWebchatCache(dataDir: string, log: (s: string) => void): Promise<void> {
  try {
    await makeShared(log);
    await cp(SHARED, webchatCacheDir(dataDir), { recursive: true });
  } catch (e) {
    log(`web chat bodies not copied in (${String(e)}): this server compresses them itself, from 15 s after its start`);
  }
}
