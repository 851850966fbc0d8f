// Every anonymous viewer is a new seed, so the avatar caches grow with churn: they must stop at avatars.cacheSize.
// Viewers join and leave one after another through @xmpp/client (each with its own photo hash in its presence);
// afterwards no cache holds more than cacheSize entries, and the avatar of the last viewer is still served by URL.
// The hash → seed table used to allow ten times cacheSize (~250 B an entry): hours of growth in a soak.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer } from '../helpers/server.js';
import { connectClient, xml } from '../helpers/xmpp-client.js';

const MUC = 'http://jabber.org/protocol/muc';
const UPDATE = 'vcard-temp:x:update';
const CACHE = 10; // the smallest cacheSize the config accepts
const VIEWERS = 3 * CACHE + 5;
const T = 20_000;

test('avatar caches stay within avatars.cacheSize across many distinct viewers', async () => {
  const srv = await startTestServer({ avatars: { set: 'cats', cacheSize: CACHE } });
  try {
    const hashes = new Set<string>();
    let last = '';
    for (let i = 0; i < VIEWERS; i++) {
      const c = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
      try {
        const full = `churn@room.localhost/viewer${i}`;
        await c.send(xml('presence', { to: full }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '0' }))));
        const self = await c.waitFor(
          (s) => s.is('presence') && s.attrs.from === full && !s.attrs.type,
          T,
          `viewer${i}'s own presence`,
        );
        last = self.getChild('x', UPDATE)?.getChildText('photo') ?? '';
        assert.match(last, /^[0-9a-f]{40}$/, `viewer${i}'s presence carries a photo hash`);
        hashes.add(last);
        if (i < VIEWERS - 1) {
          await c.send(xml('presence', { to: full, type: 'unavailable' }));
          await c.waitFor((s) => s.is('presence') && s.attrs.from === full && s.attrs.type === 'unavailable', T);
        } else {
          // The last one stays: its avatar must still be served by hash.
          const res = await fetch(`${srv.httpUrl}/avatars/${last}.png`);
          assert.is(res.status, 200, "a present viewer's avatar URL answers");
          assert.is(res.headers.get('content-type'), 'image/png');
          await res.arrayBuffer();
        }
      } finally {
        await c.stop();
      }
    }
    assert.ok(hashes.size > 2 * CACHE, `viewers got distinct avatars (${hashes.size})`);
    const sizes = srv.server.avatars.cacheEntries();
    for (const [name, n] of Object.entries(sizes))
      assert.ok(
        n <= CACHE,
        `avatar cache ${name} holds ${n} entries after ${VIEWERS} viewers, above cacheSize ${CACHE}`,
      );
  } finally {
    await srv.stop();
  }
});

test.run();
