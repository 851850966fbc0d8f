// The plugin's first start: import livechat's Prosody rooms once. The importer itself (the Lua reader, the archive
// writer) is loaded only when there is something to import, so a running server does not hold its code.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readJson } from '../../storage/json-document.js';
import type { LivechatImportOptions, LivechatImportReport } from './import.js';

/** Where livechat keeps its Prosody data inside the plugin data folder. */
export function livechatProsodyDataDir(pluginDataDir: string): string {
  return join(pluginDataDir, 'prosody', 'data');
}

/**
 * For the plugin's first start: imports livechat's Prosody rooms from `<pluginDataDir>/prosody/data` once — when
 * that folder exists and no import was recorded in `dataDir` yet. Returns the report, or null when there was
 * nothing to do.
 */
export async function importLivechatOnFirstStart(
  opts: Omit<LivechatImportOptions, 'prosodyDataDir'> & { pluginDataDir: string },
): Promise<LivechatImportReport | null> {
  const prosodyDataDir = livechatProsodyDataDir(opts.pluginDataDir);
  const isDir = await stat(prosodyDataDir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) return null;
  if (await readJson(join(opts.dataDir, 'livechat-import.json')).catch(() => true)) return null;
  const { importLivechatProsody } = await import('./import.js');
  return importLivechatProsody({ ...opts, prosodyDataDir });
}
