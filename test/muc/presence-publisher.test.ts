// The room's one presence publisher: every presence copy passes the `presence-deliver` hook, so a feature can
// withhold presences from some recipients or decorate each recipient's copy (joins, rosters, changes, leaves).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cloneElement, el } from '../../src/xmpp/xml.js';
import { PreparedStanza } from '../../src/xmpp/prepared.js';
import { harness, join, HOST } from './helpers.js';

const presencesFrom = (got: { name: string; attrs: Record<string, string | undefined> }[], nick: string) =>
  got.filter((s) => s.name === 'presence' && s.attrs.from === `r@${HOST}/${nick}`);

test('a filter on presence-deliver hides one occupant from non-moderators in joins, rosters, changes and leaves', async () => {
  const h = await harness();
  // Only moderators see "ghost" (a moderators-only occupant list for one nick).
  h.muc.hooks.on(
    'presence-deliver',
    (ev) => ev.occupant.nick === 'ghost' && ev.view !== 'self' && ev.recipient.role !== 'moderator',
  );
  const owner = h.session('owner@localhost/1');
  const viewer = h.session('viewer@localhost/1');
  const ghost = h.session('ghost@localhost/1');
  join(owner, 'r', 'owner');
  join(viewer, 'r', 'viewer');
  join(ghost, 'r', 'ghost');
  assert.is(presencesFrom(viewer.take(), 'ghost').length, 0, 'the viewer was told of ghost joining');
  assert.is(presencesFrom(owner.take(), 'ghost').length, 1, 'the moderator missed ghost joining');
  const ghostSelf = presencesFrom(ghost.take(), 'ghost');
  assert.is(ghostSelf.length, 1, 'ghost got no self-presence');
  // A late joiner's roster omits ghost too.
  const late = h.session('late@localhost/1');
  join(late, 'r', 'late');
  const lateGot = late.take();
  assert.is(presencesFrom(lateGot, 'ghost').length, 0, 'ghost listed in the late joiner roster');
  assert.is(presencesFrom(lateGot, 'owner').length, 1, 'the roster lost the owner');
  // Presence update and leave.
  ghost.out(`<presence to="r@${HOST}/ghost"><show>away</show></presence>`);
  ghost.out(`<presence to="r@${HOST}/ghost" type="unavailable"/>`);
  assert.is(presencesFrom(viewer.take(), 'ghost').length, 0, 'the viewer saw ghost update or leave');
  assert.is(presencesFrom(owner.take(), 'ghost').length, 2, 'the moderator missed the update or the leave');
});

test('a decorator on presence-deliver gives each recipient its own copy, self-presences included', async () => {
  const h = await harness();
  h.muc.hooks.on('presence-deliver', (ev) => {
    const copy = cloneElement(ev.stanza.element);
    copy.append(el('x', { xmlns: 'vcard-temp:x:update' }, el('photo', {}, `for-${ev.recipient.nick}`)));
    ev.stanza = new PreparedStanza(copy);
  });
  const a = h.session('a@localhost/1');
  const b = h.session('b@localhost/1');
  join(a, 'r', 'A');
  const aSelf = a.take().find((s) => s.name === 'presence')!;
  assert.is(aSelf.getChild('x', 'vcard-temp:x:update')?.getChildText('photo'), 'for-A');
  join(b, 'r', 'B');
  const bGot = b.take().filter((s) => s.name === 'presence');
  assert.equal(
    bGot.map((s) => s.getChild('x', 'vcard-temp:x:update')?.getChildText('photo')),
    ['for-B', 'for-B'],
  );
  const aGot = a.take().filter((s) => s.name === 'presence');
  assert.equal(
    aGot.map((s) => s.getChild('x', 'vcard-temp:x:update')?.getChildText('photo')),
    ['for-A'],
  );
  // The shared copy was not mutated: one decoration each.
  assert.is(aGot[0].getChildren('x').filter((x) => x.attrs.xmlns === 'vcard-temp:x:update').length, 1);
});

test.run();
