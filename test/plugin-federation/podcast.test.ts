// <podcast:chat> on live items, shaped as PeerTube's CustomTag for filter:feed.podcast.video.create-custom-tags.result.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addPodcastChatTag, type LocalChatServer } from '../../plugin/server/federation/index.js';

const UUID = '0d0b1e52-6b38-4b8e-8f3c-0a1f5b3c9d01';
const SERVER: LocalChatServer = {
  webserverUrl: 'https://video.example',
  pluginShortName: 'livechat',
  allowS2S: false,
  s2sPort: '5269',
  dontPublishRemotely: false,
  noAnonymous: false,
  disableWebsocket: false,
};
const ROOM = `${UUID}@room.video.example`;
const other = { name: 'fizz', attributes: { a: 'b' } };

test('a live item with chat gets server, protocol and embedUrl, appended to other tags', () => {
  const before = [other];
  const out = addPodcastChatTag(before, { liveItem: true, videoUuid: UUID, roomJid: ROOM, server: SERVER });
  assert.equal(out, [
    other,
    {
      name: 'podcast:chat',
      attributes: {
        server: 'video.example',
        protocol: 'xmpp',
        embedUrl: `https://video.example/plugins/livechat/router/webchat/room/${UUID}`,
      },
    },
  ]);
  assert.is(before.length, 1, 'the incoming array is not modified');
});

test('space (the room JID) only when S2S is on', () => {
  const out = addPodcastChatTag([], {
    liveItem: true,
    videoUuid: UUID,
    roomJid: ROOM,
    server: { ...SERVER, allowS2S: true },
  });
  assert.is(out[0]?.attributes?.space, ROOM);
  const noPort = addPodcastChatTag([], {
    liveItem: true,
    videoUuid: UUID,
    roomJid: ROOM,
    server: { ...SERVER, allowS2S: true, s2sPort: null },
  });
  assert.is(noPort[0]?.attributes?.space, undefined);
});

test('no tag for non-live items, videos without chat, or a chat kept local', () => {
  const tags = [other];
  assert.is(addPodcastChatTag(tags, { liveItem: false, videoUuid: UUID, roomJid: ROOM, server: SERVER }), tags);
  assert.is(addPodcastChatTag(tags, { liveItem: true, videoUuid: UUID, roomJid: false, server: SERVER }), tags);
  assert.is(
    addPodcastChatTag(tags, {
      liveItem: true,
      videoUuid: UUID,
      roomJid: ROOM,
      server: { ...SERVER, dontPublishRemotely: true },
    }),
    tags,
  );
});

test.run();
