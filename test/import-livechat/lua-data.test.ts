// The reader of Prosody's Lua data files: every literal form Prosody's serializer writes, and nothing that would
// need running code.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LuaSyntaxError, LuaTable, parseLuaItems, parseLuaReturn } from '../../src/import/livechat/lua-data.js';

test('a room file: keyed fields, nested tables, booleans, numbers, `;` and `,` separators', () => {
  const t = parseLuaReturn(`return {
\t["_jid"] = "r@room.localhost";
\t["_data"] = { ["persistent"] = true; hidden = false, ["history_length"] = 20; ["subject_time"] = 1796270513.25 };
\t["alice@localhost"] = "owner";
};
`) as LuaTable;
  assert.ok(t instanceof LuaTable);
  assert.is(t.get('_jid'), 'r@room.localhost');
  const d = t.get('_data') as LuaTable;
  assert.is(d.get('persistent'), true);
  assert.is(d.get('hidden'), false);
  assert.is(d.get('history_length'), 20);
  assert.is(d.get('subject_time'), 1796270513.25);
  assert.equal(
    t
      .entries()
      .map(([k]) => k)
      .sort(),
    ['_data', '_jid', 'alice@localhost'],
  );
});

test('strings: escapes of UTF-8 bytes, quotes, newlines (both spellings), \\x, \\u{}, \\z, long brackets', () => {
  const t = parseLuaReturn(String.raw`return { "caf\195\169 \226\156\147", 'it\'s "q"', "a\nb", "c\
d", "\x41\u{1F600}\z
   e", [==[raw ]] "text"]==], "\\\0end" }`) as LuaTable;
  assert.equal(t.list(), ['café ✓', `it's "q"`, 'a\nb', 'c\nd', 'A😀e', 'raw ]] "text"', '\\\0end']);
});

test('positional and [n] entries form the list; nil values are absent; comments are skipped', () => {
  const t = parseLuaReturn(`-- header
return { "a", "b", [3] = "c", [5] = "gap", x = nil, --[[ block
comment ]] ["n"] = -1.5e3, hex = 0x10, neg = -2 }`) as LuaTable;
  assert.equal(t.list(), ['a', 'b', 'c']);
  assert.is(t.get(5), 'gap');
  assert.is(t.get('x'), null);
  assert.is(t.get('n'), -1500);
  assert.is(t.get('hex'), 16);
  assert.is(t.get('neg'), -2);
});

test('an archive file: item(...) calls in order', () => {
  const items = parseLuaItems(`item({ ["key"] = "k1"; ["when"] = 1; });\nitem({ ["key"] = "k2"; ["when"] = 2; });\n`);
  assert.equal(
    items.map((i) => (i as LuaTable).get('key')),
    ['k1', 'k2'],
  );
  assert.equal(parseLuaItems(''), []);
});

test('anything but literals is refused, with where', () => {
  const bad = [
    'return os.execute("rm -rf /")',
    'return { a = os.getenv("HOME") }',
    'return { a = "x" .. "y" }',
    'return function() end',
    'return { a = b }',
    'return { "unterminated }',
    'return {} trailing',
    'x = 1',
    'return "\\999"',
    'return "\\q"',
    'return ' + '{'.repeat(500) + '}'.repeat(500),
  ];
  for (const src of bad) {
    assert.throws(
      () => parseLuaReturn(src),
      (e: unknown) => e instanceof LuaSyntaxError,
      src.slice(0, 40),
    );
  }
  assert.throws(
    () => parseLuaItems('item({}); os.exit()'),
    (e: unknown) => e instanceof LuaSyntaxError,
  );
  assert.throws(
    () => parseLuaItems('item({})(1)'),
    (e: unknown) => e instanceof LuaSyntaxError,
  );
});

test.run();
