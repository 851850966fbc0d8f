// Server configuration: one MUC host setting, refused a second time with a message naming the field; the c2s
// write-coalescing settings and their bounds.
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

test('write coalescing: defaults, and c2s.coalesceMs / coalesceMaxBytes / coalesceMaxMs / coalesceWritesPerSecond refused with the field named', () => {
  const d = validateConfig({}).c2s;
  assert.ok(d.coalesceMs > 0 && d.coalesceMs <= 250, `default window ${d.coalesceMs} ms`);
  assert.ok(d.coalesceMaxBytes <= validateConfig({}).limits.maxSendBufferBytes);
  assert.is(validateConfig({ c2s: { coalesceMs: 0 } }).c2s.coalesceMs, 0);
  assert.match(
    fieldOf(() => validateConfig({ c2s: { coalesceMs: -1 } }))!,
    /c2s\.coalesceMs: must be between 0 and/,
  );
  assert.match(
    fieldOf(() => validateConfig({ c2s: { coalesceMs: 'soon' } }))!,
    /c2s\.coalesceMs: expected an integer/,
  );
  assert.match(
    fieldOf(() => validateConfig({ c2s: { coalesceMaxBytes: 8 * 1024 * 1024 } }))!,
    /c2s\.coalesceMaxBytes: must be at most limits\.maxSendBufferBytes/,
  );
  assert.ok(d.coalesceMaxMs >= d.coalesceMs && d.coalesceMaxMs <= 500, `default widest window ${d.coalesceMaxMs} ms`);
  assert.ok(d.coalesceWritesPerSecond > 0);
  assert.is(validateConfig({ c2s: { coalesceMs: 1000 } }).c2s.coalesceMaxMs, 1000, 'unset, below coalesceMs');
  assert.match(
    fieldOf(() => validateConfig({ c2s: { coalesceMs: 200, coalesceMaxMs: 100 } }))!,
    /c2s\.coalesceMaxMs: must be at least c2s\.coalesceMs/,
  );
  assert.match(
    fieldOf(() => validateConfig({ c2s: { coalesceWritesPerSecond: 0 } }))!,
    /c2s\.coalesceWritesPerSecond: must be between/,
  );
  assert.match(
    fieldOf(() => validateConfig({ c2s: { coalesce: 5 } }))!,
    /c2s\.coalesce: unknown setting/,
  );
});

test('the start rehearsal is on by default; rehearsal must be a boolean', () => {
  assert.is(validateConfig({}).rehearsal, true);
  assert.is(validateConfig({ rehearsal: false }).rehearsal, false);
  assert.match(
    fieldOf(() => validateConfig({ rehearsal: 'no' }))!,
    /rehearsal/,
  );
});

test.run();
