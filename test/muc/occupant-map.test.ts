// The room's occupant map keeps its anonymous count and its per-bare-JID index right through every way the room
// changes it: a new nick, a nick taken over, a rename (delete then set), a replaced entry, removal and clear.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OccupantMap } from '../../src/muc/occupant-map.js';
import { Occupant } from '../../src/muc/occupant.js';

const anon = (bare: string) => bare.endsWith('@anon.localhost');
const occ = (nick: string, bare: string) => new Occupant(nick, bare, 'participant', `id-${nick}`);

test('counts and per-bare lists follow set, rename, replace, delete and clear', () => {
  const m = new OccupantMap(anon);
  const v1 = occ('V1', 'a1@anon.localhost');
  const v2 = occ('V2', 'a2@anon.localhost');
  const alice = occ('Alice', 'alice@localhost');
  const alicePhone = occ('Alice phone', 'alice@localhost');
  m.set('V1', v1).set('V2', v2).set('Alice', alice).set('Alice phone', alicePhone);
  assert.is(m.anonymous, 2);
  assert.equal([...m.ofBare('alice@localhost')], [alice, alicePhone]);
  m.set('V1', v1); // the same entry again changes nothing
  assert.is(m.anonymous, 2);

  m.delete('V1');
  v1.nick = 'V1 renamed';
  m.set('V1 renamed', v1);
  assert.is(m.anonymous, 2, 'a rename is no arrival');
  assert.equal([...m.ofBare('a1@anon.localhost')], [v1]);

  const bob = occ('V2', 'bob@localhost');
  m.set('V2', bob); // an entry replaced by another occupant
  assert.is(m.anonymous, 1);
  assert.equal([...m.ofBare('a2@anon.localhost')], []);
  assert.equal([...m.ofBare('bob@localhost')], [bob]);

  assert.is(m.delete('nobody'), false);
  assert.is(m.anonymous, 1);
  m.delete('V1 renamed');
  assert.is(m.anonymous, 0);
  assert.equal([...m.ofBare('a1@anon.localhost')], []);
  m.clear();
  assert.is(m.size, 0);
  assert.equal([...m.ofBare('alice@localhost')], []);
});

test.run();
