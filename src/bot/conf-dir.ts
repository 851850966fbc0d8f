// Watches livechat's room-file folder: every *.json is read at start and again whenever it changes (changes are
// debounced per file, as editors and the plugin write in several steps); a removed file is reported as null.
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const DEBOUNCE_MS = 100;

export type ConfFileListener = (file: string, json: unknown | null, error?: string) => void;

export async function watchConfDir(dir: string, onFile: ConfFileListener): Promise<() => void> {
  await mkdir(dir, { recursive: true });
  const load = async (file: string) => {
    let text: string;
    try {
      text = await readFile(join(dir, file), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') onFile(file, null);
      else onFile(file, undefined, (err as Error).message);
      return;
    }
    try {
      onFile(file, JSON.parse(text));
    } catch (err) {
      onFile(file, undefined, `invalid JSON: ${(err as Error).message}`);
    }
  };
  const timers = new Map<string, NodeJS.Timeout>();
  const watcher: FSWatcher = watch(dir, { persistent: false }, (_event, name) => {
    const file = name?.toString();
    if (!file || !file.endsWith('.json') || timers.has(file)) return;
    timers.set(
      file,
      setTimeout(() => {
        timers.delete(file);
        void load(file);
      }, DEBOUNCE_MS),
    );
  });
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()) await load(f);
  return () => {
    watcher.close();
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
  };
}
