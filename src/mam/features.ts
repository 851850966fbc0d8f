// Moved to src/xmpp/mam-namespaces.ts (the MUC service uses them too); kept so existing imports still work.
export * from '../xmpp/mam-namespaces.js';
