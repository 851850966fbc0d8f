// Switching from peertube-plugin-livechat: import of its Prosody rooms and readers of its own data files.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readJson } from '../../storage/json-document.js';
import { importLivechatProsody, type LivechatImportOptions, type LivechatImportReport } from './import.js';

export {
  importLivechatProsody,
  roomConfigFromProsody,
  affiliationsFromProsody,
  archiveRecordFromProsody,
  type LivechatImportOptions,
  type LivechatImportReport,
  type ImportedRoom,
} from './import.js';
export { parseLuaItems, parseLuaReturn, LuaTable, LuaSyntaxError, type LuaValue } from './lua-data.js';
export * from './layout.js';

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
  return importLivechatProsody({ ...opts, prosodyDataDir });
}
