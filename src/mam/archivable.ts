// Moved to src/xmpp/archivable.ts (the MUC service uses it too); kept so existing imports still work.
export * from '../xmpp/archivable.js';
