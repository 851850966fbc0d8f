// Per-connection identifiers (stream ids, resources, anonymous usernames) come from a pooled random buffer: every
// call gets bytes of its own (no repeats across refills), of the asked length and encoding.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomString } from '../../src/xmpp/random.js';

test('fresh bytes every call, across many pool refills, in the asked encoding and length', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const hex = randomString(6, 'hex');
    assert.match(hex, /^[0-9a-f]{12}$/);
    assert.not.ok(seen.has(hex), `repeated ${hex}`);
    seen.add(hex);
  }
  for (let i = 0; i < 1000; i++) assert.match(randomString(12, 'base64url'), /^[A-Za-z0-9_-]{16}$/);
  assert.throws(() => randomString(257, 'hex'));
});

test.run();
