// The `s2s` config section and the CLI flags that feed it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateS2s, parseHostPort } from '../../src/s2s/config.js';
import { orderSrv } from '../../src/s2s/resolve.js';
import { ConfigError } from '../../src/config-schema.js';

test('defaults: off, port 5269 on every IPv4 and IPv6 interface', () => {
  const c = validateS2s(undefined, 's2s');
  assert.is(c.enabled, false);
  assert.is(c.port, 5269);
  assert.equal(c.interfaces, ['0.0.0.0', '::']);
  assert.is(c.secureAuth, false);
});

test('a port (what --s2s-port writes) turns S2S on; livechat\'s "*, ::" interface list is understood', () => {
  const c = validateS2s({ port: '15269', interfaces: '*, ::' }, 's2s');
  assert.is(c.enabled, true);
  assert.is(c.port, 15269);
  assert.equal(c.interfaces, ['0.0.0.0', '::']);
});

test('--dns HOST:PORT and a dnsServers list are merged and normalized', () => {
  const c = validateS2s({ dnsServers: ['127.0.0.1:5353', '::1'], dns: '10.0.0.1' }, 's2s');
  assert.equal(c.dnsServers, ['127.0.0.1:5353', '[::1]:53', '10.0.0.1:53']);
});

test('bad values name the field', () => {
  assert.throws(
    () => validateS2s({ dnsServers: ['dns.example.org'] }, 's2s'),
    (e: Error) => e instanceof ConfigError && /s2s\.dnsServers/.test(e.message),
  );
  assert.throws(
    () => validateS2s({ staticRoutes: { 'x.example': 'nope:port' } }, 's2s'),
    /s2s\.staticRoutes\.x\.example/,
  );
  assert.throws(() => validateS2s({ dialbackSecret: 'short' }, 's2s'), /s2s\.dialbackSecret/);
  assert.throws(() => validateS2s({ prot: 1 }, 's2s'), /s2s\.prot: unknown setting/);
});

test('static routes take host:port, default port 5269', () => {
  const c = validateS2s({ staticRoutes: { 'Peer.Example': '10.1.2.3', 'v6.example': '[fd00::1]:5270' } }, 's2s');
  assert.equal(c.staticRoutes['peer.example'], { host: '10.1.2.3', port: 5269 });
  assert.equal(c.staticRoutes['v6.example'], { host: 'fd00::1', port: 5270 });
  assert.is(parseHostPort('a:b', 1), null);
});

test('SRV ordering: lower priority first, direct TLS first among equals with no weight', () => {
  const recs = [
    { name: 'b', port: 2, priority: 10, weight: 0, directTls: false },
    { name: 'a', port: 1, priority: 5, weight: 0, directTls: false },
    { name: 'c', port: 3, priority: 10, weight: 0, directTls: true },
  ];
  assert.equal(
    orderSrv(recs).map((r) => r.name),
    ['a', 'c', 'b'],
  );
});

test.run();
