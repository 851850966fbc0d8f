import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../src/config-schema.js';
import { validateCerts } from '../../src/certs/config.js';

test('defaults: no folder (self-signed), watching on', () => {
  assert.equal(validateCerts(undefined, 'certs'), { watch: true });
});

test('folder and watch are read, strings too (env-style)', () => {
  assert.equal(validateCerts({ folder: '/etc/letsencrypt', watch: 'false' }, 'certs'), {
    folder: '/etc/letsencrypt',
    watch: false,
  });
});

test('mistakes name the field', () => {
  const err = (raw: unknown) => {
    try {
      validateCerts(raw, 'certs');
    } catch (e) {
      assert.instance(e, ConfigError);
      return (e as Error).message;
    }
    throw new Error('expected a ConfigError');
  };
  assert.match(err({ folder: 3 }), 'certs.folder: expected a string');
  assert.match(err({ watch: 'yes' }), 'certs.watch: expected true or false');
  assert.match(err({ fodler: '/x' }), 'certs.fodler: unknown setting');
  assert.match(err('x'), 'certs: expected an object');
});

test.run();
