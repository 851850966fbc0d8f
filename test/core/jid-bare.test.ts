// A JID's bare form without a new JID per use (src/xmpp/jid.ts): @xmpp/jid scans the local part for XEP-0106 escapes
// on every construction, which a session's stanzas to its own account and the rooms' affiliation checks paid per
// stanza. The shortcuts must give exactly what `bare()` gives, escapes included.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bareOf, bareString, jidOf, parseJid } from '../../src/xmpp/jid.js';

const addresses = [
  'viewer@anon.localhost/abc',
  'Zoé@localhost/Gajim',
  "d'artagnan@localhost/x",
  'room@room.localhost/Nick With Spaces',
  'a\\20b@localhost/r',
  'localhost/just-a-resource',
  'user@localhost',
];

test("bareString and bareOf give bare()'s address for parsed and built JIDs, escapes included", () => {
  for (const a of addresses) {
    const j = parseJid(a);
    assert.ok(j, a);
    assert.is(bareString(j!), j!.bare().toString(), a);
    assert.is(bareOf(j!).toString(), j!.bare().toString(), a);
    assert.ok(bareOf(j!).equals(j!.bare()), a);
  }
  const built = jidOf('Who Is "This"', 'localhost', 'res');
  assert.is(bareString(built), built.bare().toString());
  assert.is(bareOf(built).toString(), built.bare().toString());
});

test("a session's bare JID is made once, frozen, and a bare JID is its own bare form", () => {
  const session = Object.freeze(jidOf('viewer', 'anon.localhost', 'r1'));
  const first = bareOf(session);
  assert.is(bareOf(session), first, 'a second call built another JID');
  assert.ok(Object.isFrozen(first), 'the shared bare JID can be changed by a caller');
  assert.is(bareOf(first), first);
  const other = Object.freeze(jidOf('viewer', 'anon.localhost', 'r2'));
  assert.is(bareOf(other).toString(), first.toString());
});

test.run();
