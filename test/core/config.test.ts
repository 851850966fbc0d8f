// Server configuration: one MUC host setting, refused a second time with a message naming the field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateConfig } from '../../src/config.js';
import { ConfigError } from '../../src/config-schema.js';
import { validateMuc } from '../../src/muc/config.js';
import { createServer } from '../../src/index.js';
import { silentLogger } from '../../src/log.js';

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ConfigError);
    return (err as ConfigError).message;
  }
  return undefined;
};

test('the MUC host is the top-level mucHost only; muc.host is refused with a message naming the field', () => {
  const config = validateConfig({ domain: 'example.org', mucHost: 'chat.example.org' });
  assert.is(validateMuc(config.modules.muc, 'muc', config.mucHost).host, 'chat.example.org');
  assert.is(validateMuc(undefined, 'muc', validateConfig({ domain: 'example.org' }).mucHost).host, 'room.example.org');
  const msg = fieldOf(() =>
    createServer({ domain: 'example.org', muc: { host: 'other.example.org' } }, { logger: silentLogger }),
  );
  assert.ok(msg, 'muc.host was accepted');
  assert.match(msg!, /muc\.host/);
  assert.match(msg!, /mucHost/);
});

test.run();
