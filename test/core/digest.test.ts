// Occupant ids (XEP-0421) and archive ids are kept by clients and in rooms' archives: hashing them in one call must
// give exactly what the earlier step-by-step hashing gave, or every occupant would change id after an upgrade.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { digest } from '../../src/digest.js';
import { occupantId } from '../../src/muc/room.js';
import { idFor, newSalt, seqOf } from '../../src/storage/ids.js';

test('occupant ids are the ones the step-by-step hash gave', () => {
  const salt = 'k3Yp0aQ9-salt';
  for (const bare of ['viewer1@anon.localhost', 'Zoë@localhost', 'a@b']) {
    const before = createHash('sha256')
      .update(salt)
      .update('\0')
      .update('live@room.localhost')
      .update('\0')
      .update(bare)
      .digest('base64url')
      .slice(0, 22);
    assert.is(occupantId(salt, 'live@room.localhost', bare), before, bare);
  }
});

test('digest() is createHash in one call, for strings (UTF-8) and buffers', () => {
  for (const data of ['', 'plain', 'ünïcödé ✓', Buffer.from([0, 1, 2, 255])]) {
    for (const alg of ['sha1', 'sha256'] as const) {
      for (const enc of ['hex', 'base64', 'base64url'] as const) {
        assert.is(digest(alg, data, enc), createHash(alg).update(data).digest(enc), `${alg} ${enc} ${String(data)}`);
      }
    }
  }
});

test('archive ids still resolve to their position, and not under another salt', () => {
  const salt = newSalt();
  const id = idFor(salt, 12345);
  assert.is(seqOf(salt, id), 12345);
  assert.is(seqOf(newSalt(), id), null);
});

test.run();
