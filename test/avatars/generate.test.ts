// Computed avatars: the same seed always gives the same PNG (and so the same XEP-0153 hash), different seeds
// spread over many designs, every avatar is a 60×60 PNG of at most 1.5 KB, and a vCard holds exactly its bytes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { parse } from 'ltx';
import { AvatarService, MAX_AVATAR_BYTES } from '../../src/avatars/service.js';
import { validateAvatars } from '../../src/avatars/config.js';
import { SET_NAMES } from '../../src/avatars/art.js';
import { silentLogger } from '../../src/log.js';
import { ConfigError } from '../../src/config-schema.js';
import { createServer } from '../../src/index.js';
import { cloneElement, el } from '../../src/xmpp/xml.js';

async function service(set: string, extra: Record<string, unknown> = {}): Promise<AvatarService> {
  const s = new AvatarService(validateAvatars({ set, ...extra }), { log: silentLogger });
  await s.start();
  return s;
}

test('nothing is composed before it is asked for, and not before start', async () => {
  const s = new AvatarService(validateAvatars({ set: 'cats' }), { log: silentLogger });
  assert.is(s.forSeed('x'), undefined, 'no masks yet, so no avatar (and no blocking work)');
  await s.start();
  assert.ok(s.forSeed('x'));
});

for (const set of SET_NAMES) {
  test(`${set}: deterministic across service instances, ≤ 1.5 KB, 60×60 PNG`, async () => {
    const a = await service(set);
    const b = await service(set);
    const hashes = new Set<string>();
    let largest = 0;
    for (let i = 0; i < 150; i++) {
      const seed = `Anonymous ${100000 + i * 7919}`;
      const x = a.forSeed(seed)!;
      const y = b.forSeed(seed)!;
      assert.is(x.hash, y.hash, `same seed, same avatar (${seed})`);
      assert.ok(x.png.equals(y.png));
      assert.is(x.hash, createHash('sha1').update(x.png).digest('hex'), 'hash is the SHA-1 of the bytes');
      largest = Math.max(largest, x.png.length);
      hashes.add(x.hash);
    }
    assert.ok(largest <= MAX_AVATAR_BYTES, `largest ${largest} B`);
    assert.ok(hashes.size >= 100, `150 seeds gave only ${hashes.size} different avatars`);
    const sample = a.forSeed('Anonymous 1')!;
    const meta = await sharp(sample.png).metadata();
    assert.is(meta.format, 'png');
    assert.is(meta.width, 60);
    assert.is(meta.height, 60);
  });
}

test('sets differ for the same seed; the bot avatar is one fixed image', async () => {
  const hashes = new Set<string>();
  for (const set of SET_NAMES) hashes.add((await service(set)).forSeed('Alice')!.hash);
  assert.is(hashes.size, SET_NAMES.length);
  const a = await service('birds', { bots: ['bot@localhost'] });
  const b = await service('cats');
  assert.is(a.bot()!.hash, b.bot()!.hash);
  assert.ok(a.isBot('bot@localhost'));
  assert.not.ok(hashes.has(a.bot()!.hash));
});

test('set "none" makes no computed avatars; an unknown set is a config error naming the field', async () => {
  const s = await service('none');
  assert.is(s.forSeed('Alice'), undefined);
  assert.throws(
    () => validateAvatars({ set: 'dogs' }),
    (e: Error) => e instanceof ConfigError && /avatars\.set/.test(e.message),
  );
  assert.throws(
    () => createServer({ avatars: { sett: 'cats' } }, { logger: silentLogger }),
    (e: Error) => e instanceof ConfigError && /avatars\.sett: unknown setting/.test(e.message),
  );
  assert.throws(
    () => validateAvatars({ httpPath: 'avatars/' }),
    (e: Error) => /avatars\.httpPath/.test(e.message),
  );
  assert.throws(
    () => validateAvatars({ maxConcurrent: 0 }),
    (e: Error) => /avatars\.maxConcurrent: must be between 1 and 64/.test(e.message),
  );
});

test('the vCard carries exactly the PNG, serialized once and reused', async () => {
  const s = await service('shapes');
  const a = s.forSeed('Bob')!;
  assert.is(s.forSeed('Bob'), a, 'second lookup is the cached object');
  const v = parse(a.vcard.toString());
  assert.is(v.attrs.xmlns, 'vcard-temp');
  assert.is(v.getChild('PHOTO')!.getChildText('TYPE'), 'image/png');
  assert.ok(Buffer.from(v.getChild('PHOTO')!.getChildText('BINVAL')!, 'base64').equals(a.png));
  // Code that clones stanzas (carbons, offline storage) still sees the content.
  assert.is(cloneElement(a.vcard).toString(), a.vcard.toString());
  assert.is(
    el('iq', { type: 'result', id: 'x' }, a.vcard).toString(),
    `<iq type="result" id="x">${a.vcard.toString()}</iq>`,
  );
  assert.is(s.byHash(a.hash), a);
  assert.is(s.byHash('0'.repeat(40)), undefined);
});

test('an avatar evicted from the cache is made again, identical, when its URL is asked for', async () => {
  const s = await service('abstract', { cacheSize: 10 });
  const first = s.forSeed('seed 0')!;
  for (let i = 1; i < 50; i++) s.forSeed(`seed ${i}`);
  // Its occupant is still there: each of its presences carries the hash, which keeps hash → seed (a bounded LRU too).
  assert.is(s.hashForSeed('seed 0'), first.hash);
  const again = s.byHash(first.hash);
  assert.ok(again);
  assert.is.not(again, first, 'rebuilt, not the evicted object');
  assert.ok(again!.png.equals(first.png));
});

test('the hash → seed table keeps at most cacheSize entries: a hash not announced since is no longer served', async () => {
  const s = await service('abstract', { cacheSize: 10 });
  const gone = s.hashForSeed('seed 0')!;
  for (let i = 1; i < 50; i++) s.hashForSeed(`seed ${i}`);
  assert.ok(s.cacheEntries().seeds <= 10, `${s.cacheEntries().seeds} entries`);
  assert.is(s.byHash(gone), undefined);
  assert.ok(s.byHash(s.hashForSeed('seed 49')!), 'a recent one is');
});

test('a presence hash whose picture is no longer kept: drawn again, identical, when its vCard or URL is asked for', async () => {
  const s = await service('birds');
  const seeds = Array.from({ length: 600 }, (_, i) => `occupant ${i}`);
  const hashes = seeds.map((seed) => s.hashForSeed(seed)!);
  assert.is(new Set(hashes).size > 300, true, 'different occupants, different pictures');
  // More pictures drawn and asked for since than the byte caches hold: the first ones' PNGs are gone, their hashes
  // are not.
  for (const seed of seeds.slice(300)) s.forSeed(seed);
  for (const i of [0, 1, 299]) {
    const a = s.forSeed(seeds[i]!)!;
    assert.is(a.hash, hashes[i], `seed ${i}: the vCard's picture is the one the presence announced`);
    assert.is(createHash('sha1').update(a.png).digest('hex'), hashes[i]);
    const v = parse(a.vcard.toString());
    assert.ok(Buffer.from(v.getChild('PHOTO')!.getChildText('BINVAL')!, 'base64').equals(a.png));
  }
  const byUrl = s.byHash(hashes[5]!);
  assert.ok(byUrl, 'the URL of a hash only seen in a presence answers');
  assert.is(createHash('sha1').update(byUrl!.png).digest('hex'), hashes[5]);
  assert.is(s.hashForSeed(seeds[7]!), hashes[7], 'asking again gives the same hash');
});

test('provider avatars are shrunk to ≤ 1.5 KB, cached per JID, and a failing provider is not fatal', async () => {
  let calls = 0;
  const photo = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#3a86ff' } })
    .composite([
      { input: Buffer.from('<svg width="400" height="300"><circle cx="200" cy="150" r="120" fill="#ff006e"/></svg>') },
    ])
    .jpeg()
    .toBuffer();
  const s = new AvatarService(validateAvatars({}), {
    log: silentLogger,
    isAccount: (j) => j.endsWith('@localhost'),
    provider: async (jid) => {
      calls++;
      if (jid === 'broken@localhost') throw new Error('PeerTube is down');
      return jid === 'alice@localhost' ? photo : undefined;
    },
  });
  await s.start();
  const [x, y] = await Promise.all([s.loadAccount('alice@localhost'), s.loadAccount('alice@localhost')]);
  assert.ok(x);
  assert.is(x, y);
  assert.is(calls, 1, 'concurrent loads share one provider call');
  assert.ok(x!.png.length <= MAX_AVATAR_BYTES, `${x!.png.length} B`);
  assert.is((await sharp(x!.png).metadata()).width, 60);
  assert.is(s.accountAvatar('alice@localhost'), x);
  assert.is(s.byHash(x!.hash), x);
  assert.is(await s.loadAccount('nobody@localhost'), undefined);
  assert.is(await s.loadAccount('broken@localhost'), undefined);
  assert.ok(s.accountKnown('nobody@localhost'));
});

test.run();
