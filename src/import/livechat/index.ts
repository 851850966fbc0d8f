// Switching from peertube-plugin-livechat: import of its Prosody rooms and readers of its own data files.
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
export { importLivechatOnFirstStart, livechatProsodyDataDir } from './first-start.js';
