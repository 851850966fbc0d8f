// Moderator team per channel through the library API, observed with @xmpp/client: the team moderates every room
// of the channel, also rooms created later and after a restart; leaving the team takes back only what it gave.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServerPerTest, HOST, USER, joinRoom, setAffiliation, type Stanza } from './room-client.js';

const fx = new ServerPerTest(test);
const clients = fx.clients;

const itemOf = (s: Stanza) => s.getChild('x', USER)?.getChild('item');

test('the team is admin in every room of the channel, new rooms too; removal takes back only team grants', async () => {
  const muc = fx.srv.server.muc;
  const seed = {
    channel: 'chan-1',
    config: { persistent: true },
    affiliations: { 'streamer@localhost': 'owner' as const },
  };
  muc.createRoom('video-a', seed);
  muc.createRoom('video-b', seed);
  muc.createRoom('other', { channel: 'chan-2', config: { persistent: true } });
  muc.teams.setTeam('chan-1', { 'mod@localhost': 'admin', 'helper@localhost': 'admin' });

  const mod = await clients.user('mod');
  assert.is(itemOf(await joinRoom(mod, 'video-a', 'Mod')).attrs.affiliation, 'admin');
  assert.is(itemOf(await joinRoom(mod, 'video-b', 'Mod')).attrs.role, 'moderator');
  assert.is(itemOf(await joinRoom(mod, 'other', 'Mod')).attrs.affiliation, 'none', 'other channel untouched');
  muc.createRoom('video-c', seed);
  assert.is(itemOf(await joinRoom(mod, 'video-c', 'Mod')).attrs.affiliation, 'admin', 'room created later');

  // An admin the streamer names by hand is not the team's to take back.
  const streamer = await clients.user('streamer');
  await joinRoom(streamer, 'video-a', 'Streamer');
  await setAffiliation(streamer, 'video-a', 'friend@localhost', 'admin');

  muc.teams.setTeam('chan-1', { 'helper@localhost': 'admin' });
  const demoted = await mod.waitFor(
    (s) => s.is('presence') && s.attrs.from === `video-a@${HOST}/Mod` && itemOf(s)?.attrs.affiliation === 'none',
    5000,
    'mod loses admin',
  );
  assert.is(itemOf(demoted).attrs.role, 'participant');
  assert.is(fx.srv.server.muc.getRoom('video-a')!.affiliationOf('friend@localhost'), 'admin', 'hand-made admin stays');
  assert.is(fx.srv.server.muc.getRoom('video-b')!.affiliationOf('helper@localhost'), 'admin');

  await fx.restart();
  fx.srv.server.muc.createRoom('video-d', seed);
  assert.equal(fx.srv.server.muc.teams.getTeam('chan-1'), { 'helper@localhost': 'admin' });
  assert.is(
    fx.srv.server.muc.getRoom('video-d')!.affiliationOf('helper@localhost'),
    'admin',
    'team kept across restart',
  );
  assert.is(fx.srv.server.muc.getRoom('video-a')!.affiliationOf('mod@localhost'), 'none');
  assert.throws(() => fx.srv.server.muc.teams.setTeam('chan-1', { 'x@localhost': 'member' }), /admin or owner/);
});

test.run();
