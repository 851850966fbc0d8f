// Pinned message with @xmpp/client: a moderator pins a message by stanza-id, everyone and later joiners see it,
// participants may not pin, unpin clears it, and the pin survives a restart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ServerPerTest,
  HOST,
  configure,
  expectError,
  joinRoom,
  say,
  xml,
  type Stanza,
  type TestClient,
} from './room-client.js';

const NS = 'urn:livechat-xmpp:muc-pin:0';
const room = `live@${HOST}`;
const fx = new ServerPerTest(test);
const clients = fx.clients;

const pin = (c: TestClient, id: string) => c.iq(xml('iq', { type: 'set', to: room }, xml('pin', { xmlns: NS, id })));
const pinnedBody = (s: Stanza) =>
  s.getChild('pinned', NS)?.getChild('forwarded', 'urn:xmpp:forward:0')?.getChild('message')?.getChildText('body');

test('pin, see it on join and after a restart, unpin', async () => {
  const owner = await clients.user('owner');
  const viewer = await clients.viewer();
  await joinRoom(owner, 'live', 'Owner');
  await configure(owner, 'live', { 'muc#roomconfig_persistentroom': '1' });
  await joinRoom(viewer, 'live', 'Viewer');
  await say(owner, 'live', 'Stream schedule: Fridays 8pm');
  const msg = await viewer.waitFor((s) => s.getChildText('body') === 'Stream schedule: Fridays 8pm', 5000, 'message');
  const id = msg.getChild('stanza-id', 'urn:xmpp:sid:0').attrs.id;

  await expectError(pin(viewer, id), 'forbidden');
  await expectError(pin(owner, 'no-such-id'), 'item-not-found');
  await pin(owner, id);
  const shown = await viewer.waitFor((s) => !!s.getChild('pinned', NS), 5000, 'pinned notice');
  assert.is(pinnedBody(shown), 'Stream schedule: Fridays 8pm');
  assert.is(shown.getChild('pinned', NS).attrs.by, 'Owner');
  assert.ok(shown.getChild('no-store', 'urn:xmpp:hints'));

  const late = await clients.viewer();
  await joinRoom(late, 'live', 'Late');
  const onJoin = await late.waitFor((s) => !!s.getChild('pinned', NS), 5000, 'pinned on join');
  assert.ok(
    late.received.indexOf(onJoin) > late.received.findIndex((s) => !!s.getChild('subject')),
    'after the subject',
  );

  await fx.restart();
  const owner2 = await clients.user('owner');
  await joinRoom(owner2, 'live', 'Owner');
  assert.is(
    pinnedBody(await owner2.waitFor((s) => !!s.getChild('pinned', NS), 5000, 'pinned after restart')),
    'Stream schedule: Fridays 8pm',
  );
  await owner2.iq(xml('iq', { type: 'set', to: room }, xml('unpin', { xmlns: NS })));
  await owner2.waitFor((s) => s.getChild('unpinned', NS)?.attrs.id === id, 5000, 'unpinned notice');
  // Pinning again, then moderating the message away, unpins it.
  await pin(owner2, id);
  await owner2.waitFor(
    (s) =>
      !!s.getChild('pinned', NS) &&
      owner2.received.indexOf(s) > owner2.received.findIndex((x) => !!x.getChild('unpinned', NS)),
    5000,
    'pinned again',
  );
  await owner2.iq(
    xml(
      'iq',
      { type: 'set', to: room },
      xml(
        'moderate',
        { xmlns: 'urn:xmpp:message-moderate:1', id },
        xml('retract', { xmlns: 'urn:xmpp:message-retract:1' }),
      ),
    ),
  );
  await owner2.waitFor((s) => s.getChild('unpinned', NS)?.attrs.reason === 'retracted', 5000, 'unpinned by moderation');
  const fresh = await clients.viewer();
  await joinRoom(fresh, 'live', 'Fresh');
  await fresh.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  assert.not.ok(
    fresh.received.some((s) => !!s.getChild('pinned', NS)),
    'nothing pinned any more',
  );
});

test.run();
