// The `tcp` config section: c2s over TCP (RFC 6120) with STARTTLS, and XEP-0368 direct TLS.
import { ConfigError, asObject, bool, int, onlyKeys, strList } from '../../config-schema.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface TcpConfig {
  enabled: boolean;
  /** Interfaces for the STARTTLS port, livechat style ("*" = all IPv4, "::" = all IPv6). */
  interfaces: string[];
  port: number;
  /** XEP-0368 direct TLS (TLS from the first byte) on a second port. */
  directTls: boolean;
  directTlsPort: number;
  /** Refuse SASL until the stream is encrypted. */
  requireEncryption: boolean;
}

export function validateTcp(raw: unknown, path: string): TcpConfig {
  const o = asObject(raw, path);
  onlyKeys(o, ['enabled', 'interfaces', 'port', 'directTls', 'directTlsPort', 'requireEncryption'], path);
  const interfaces = strList(o, 'interfaces', ['127.0.0.1'], path).map((i) => (i === '*' ? '0.0.0.0' : i));
  if (interfaces.length === 0) throw new ConfigError(`${path}.interfaces`, 'needs at least one address');
  return {
    enabled: bool(o, 'enabled', true, path),
    interfaces,
    port: int(o, 'port', 5222, path, 0, 65535),
    directTls: bool(o, 'directTls', false, path),
    directTlsPort: int(o, 'directTlsPort', 5223, path, 0, 65535),
    requireEncryption: bool(o, 'requireEncryption', true, path),
  };
}
