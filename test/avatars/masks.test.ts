// The avatar parts' masks are made at build time (sharp/librsvg) and shipped as data, so the server never loads
// sharp for computed avatars: the data must be exactly what rasterizing art.ts gives, the avatars drawn from it
// must be the ones earlier releases drew (same bytes, same XEP-0153 hashes), and the running server must have no
// libvips mapped after an anonymous viewer has joined a room and fetched an occupant's avatar.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AvatarService } from '../../src/avatars/service.js';
import { validateAvatars } from '../../src/avatars/config.js';
import { PARTS } from '../../src/avatars/art.js';
import { MASKS } from '../../src/avatars/mask-data.js';
import { maskDataModule, svgDigest } from '../../src/avatars/rasterize.js';
import { silentLogger } from '../../src/log.js';
import { runCli, WS_URL, waitForOutput } from '../helpers/cli.js';
import { connectClient, xml, type Stanza } from '../helpers/xmpp-client.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('mask-data.ts is what rasterizing the parts of art.ts gives (else: npm run avatars:masks)', async () => {
  const stale = Object.keys(PARTS).filter((name) => MASKS[name]?.[0] !== svgDigest(name));
  assert.equal(stale, [], `parts changed or added in art.ts without new masks: ${stale.join(', ')}`);
  const extra = Object.keys(MASKS).filter((name) => !(name in PARTS));
  assert.equal(extra, [], `masks of parts no longer in art.ts: ${extra.join(', ')}`);
  // Byte for byte: a different librsvg drawing other edges would change every avatar hash if regenerated.
  assert.is(await maskDataModule(), readFileSync(join(root, 'src/avatars/mask-data.ts'), 'utf8'));
});

// Hashes of avatars as drawn before the masks were shipped as data (parts rasterized at start-up by sharp 0.35):
// a seed keeps its picture across releases, so clients' caches (keyed by hash) stay valid.
const KNOWN: Record<string, Record<string, string>> = {
  shapes: {
    Alice: 'cbc7e06b5ab6195a59a827c48ce7587aae4478eb',
    'Anonymous 123456': '543c9057a39272d4eac3371c280bd79ccb9a9852',
  },
  birds: {
    Alice: 'ed6022a96db65e590ead26732cf3345eaa85b27d',
    'Anonymous 123456': 'bc1f2fd929e3a9d70f6fe06f3271b59a5a65101b',
  },
  cats: {
    Alice: 'bb2b8811d9b83c208d744b4eb3ca6bbdbcd44937',
    'Anonymous 123456': '35b87217ee6d39d29485948851a251013d2a4fb6',
  },
  abstract: {
    Alice: 'bfc4a6fa0f746419b2402ac763c83069c8c010d5',
    'Anonymous 123456': 'e595eeae0f0bb40d648dc29d9c5904c719a47b10',
  },
};
const BOT_HASH = 'cf8f5c99afa1dfe03e4efdbbee820d9277e453dc';

test('avatars are the pictures earlier releases drew for the same seeds', async () => {
  for (const [set, seeds] of Object.entries(KNOWN)) {
    const s = new AvatarService(validateAvatars({ set }), { log: silentLogger });
    await s.start();
    for (const [seed, hash] of Object.entries(seeds)) assert.is(s.forSeed(seed)?.hash, hash, `${set}, ${seed}`);
    assert.is(s.bot()?.hash, BOT_HASH, `${set}: bot`);
  }
});

test('the running server draws avatars without loading sharp (no libvips mapped)', async () => {
  const data = await mkdtemp(join(tmpdir(), 'avatar-masks-'));
  const { child, done } = runCli(['--data', data, '--http-port', '0', '--c2s-port', '0']);
  try {
    const wsUrl = await waitForOutput(child, WS_URL, 60_000);
    const c = await connectClient({ service: wsUrl, domain: 'anon.localhost' });
    try {
      const full = 'masks@room.localhost/Viewer';
      await c.send(xml('presence', { to: full }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
      const own = await c.waitFor(
        (st: Stanza) => st.is('presence') && st.attrs.from === full && !st.attrs.type,
        30_000,
        'own presence',
      );
      const hash = own.getChild('x', 'vcard-temp:x:update')?.getChildText('photo');
      assert.ok(hash, 'the presence carries a computed avatar hash');
      const res = await fetch(new URL(`/avatars/${hash}.png`, wsUrl.replace(/^ws/, 'http')));
      assert.is(res.status, 200);
      assert.is(res.headers.get('content-type'), 'image/png');
    } finally {
      await c.stop();
    }
    const maps = readFileSync(`/proc/${child.pid}/maps`, 'utf8');
    const vips = maps.split('\n').filter((l) => /vips|sharp/i.test(l));
    assert.equal(vips, [], 'sharp/libvips is mapped into the server process');
  } finally {
    child.kill('SIGTERM');
    await done;
    await rm(data, { recursive: true, force: true });
  }
});

test.run();
