// The certificate module's public face: the store, its config section, and channel binding for SCRAM-PLUS.
export { CertificateStore, CertificateError, type CertificateStoreOptions, type CertInfo, type CertLogger, type ReloadResult } from './store.js';
export { validateCerts, defaultCertsConfig, type CertsConfig } from './config.js';
export { channelBindings, endPointHash, type ChannelBindings, type ChannelBindingType } from './channel-binding.js';
export { generateSelfSigned } from './self-signed.js';
