// The certificate module's public face: the store, its config section, SNI peeking, and channel binding for SCRAM-PLUS.
export {
  CertificateStore,
  CertificateError,
  type CertificateStoreOptions,
  type CertInfo,
  type CertLogger,
  type ReloadResult,
} from './store.js';
export { validateCerts, defaultCertsConfig, type CertsConfig } from './config.js';
export { channelBindings, endPointHash, type ChannelBindings, type ChannelBindingType } from './channel-binding.js';
export { peekServerName, parseServerName } from './client-hello.js';
export { generateSelfSigned } from './self-signed.js';
