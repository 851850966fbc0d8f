// The Video ActivityPub object, its JSON-LD context and the server infos, in livechat's wire format.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  addChatJsonLdContext,
  addChatToVideoJsonLd,
  buildServerInfos,
  roomJidOf,
  type LocalChatServer,
} from '../../plugin/server/federation/index.js';

const UUID = '9c9de5e8-0a1b-4cbd-9d7c-7f9b7a1c2f11';
const BASE: LocalChatServer = {
  webserverUrl: 'https://video.example',
  pluginShortName: 'livechat',
  allowS2S: false,
  s2sPort: '5269',
  dontPublishRemotely: false,
  noAnonymous: false,
  disableWebsocket: false,
};
const video = { uuid: UUID, remote: false, name: 'My live' };
const jsonld = () => ({
  type: 'Video',
  id: `https://video.example/videos/watch/${UUID}`,
  uuid: UUID,
  name: 'My live',
  isLiveBroadcast: true,
});

test('server infos: domains, WS S2S and anonymous endpoints; direct S2S only with allow-s2s and a port', () => {
  assert.equal(buildServerInfos(BASE), {
    host: 'video.example',
    muc: 'room.video.example',
    websockets2s: { url: 'wss://video.example/plugins/livechat/ws/xmpp-websocket-s2s' },
    anonymous: {
      bosh: 'https://video.example/plugins/livechat/router/http-bind',
      virtualhost: 'anon.video.example',
      websocket: 'wss://video.example/plugins/livechat/ws/xmpp-websocket',
    },
  });
  assert.equal(buildServerInfos({ ...BASE, allowS2S: true }).directs2s, { port: '5269' });
  assert.is(buildServerInfos({ ...BASE, allowS2S: true, s2sPort: '' }).directs2s, undefined);
  const closed = buildServerInfos({ ...BASE, dontPublishRemotely: true, noAnonymous: true });
  assert.is(closed.websockets2s, undefined);
  assert.is(closed.anonymous, undefined);
  assert.is(buildServerInfos({ ...BASE, disableWebsocket: true }).anonymous?.websocket, undefined);
  // A plain-http instance on a port: ws:// and the port kept in URLs, not in the XMPP domain.
  const dev = buildServerInfos({ ...BASE, webserverUrl: 'http://localhost.test:9000', pluginShortName: 'chat' });
  assert.is(dev.host, 'localhost.test');
  assert.is(dev.websockets2s?.url, 'ws://localhost.test:9000/plugins/chat/ws/xmpp-websocket-s2s');
});

test('a local video with chat gets the FEP-1970 link and peertubeLiveChat; no xmpp: link without S2S', () => {
  const roomJid = roomJidOf(BASE.webserverUrl, 'video', { uuid: UUID, channelId: 3 });
  assert.is(roomJid, `${UUID}@room.video.example`);
  const original = jsonld();
  const { jsonld: out, store } = addChatToVideoJsonLd(original, { video, roomJid, server: BASE });
  assert.equal(out.attachment, [
    {
      type: 'Link',
      name: 'Chat for live stream: My live',
      rel: 'discussion',
      href: `https://video.example/plugins/livechat/router/webchat/room/${UUID}`,
    },
  ]);
  assert.equal(out.peertubeLiveChat, {
    type: 'xmpp',
    jid: roomJid,
    links: [
      {
        type: 'xmpp-bosh-anonymous',
        url: 'https://video.example/plugins/livechat/router/http-bind',
        jid: 'anon.video.example',
      },
      {
        type: 'xmpp-websocket-anonymous',
        url: 'wss://video.example/plugins/livechat/ws/xmpp-websocket',
        jid: 'anon.video.example',
      },
    ],
    xmppserver: buildServerInfos(BASE),
  });
  assert.equal(store, out.peertubeLiveChat);
  assert.is(out.type, 'Video', 'other fields pass through');
  assert.is('attachment' in original, false, "PeerTube's object is not modified in place");
  // The JSON survives a round trip unchanged (what goes on the wire).
  assert.equal(JSON.parse(JSON.stringify(out)), out);
});

test('with S2S on, an xmpp:<room>?join link follows; existing attachments are kept first', () => {
  const roomJid = roomJidOf(BASE.webserverUrl, 'channel', { uuid: UUID, channelId: 7 });
  assert.is(roomJid, 'channel.7@room.video.example');
  const prior = { type: 'PropertyValue', name: 'x', value: 'y' };
  const { jsonld: out } = addChatToVideoJsonLd(
    { ...jsonld(), attachment: prior },
    { video, roomJid, server: { ...BASE, allowS2S: true }, customEmojisUrl: 'https://video.example/e.json' },
  );
  const att = out.attachment as unknown as unknown[];
  assert.is(att.length, 3);
  assert.equal(att[0], prior);
  assert.equal(att[2], {
    type: 'Link',
    name: 'Chat for live stream: My live',
    rel: 'discussion',
    href: 'xmpp://channel.7@room.video.example?join',
  });
  assert.is(out.peertubeLiveChat && out.peertubeLiveChat.customEmojisUrl, 'https://video.example/e.json');
  const arr = addChatToVideoJsonLd({ ...jsonld(), attachment: [prior] }, { video, roomJid, server: BASE }).jsonld
    .attachment as unknown[];
  assert.is(arr.length, 2);
});

test('no chat, chat kept local, or a remote video: the object is unchanged', () => {
  const o = jsonld();
  const none = addChatToVideoJsonLd(o, { video, roomJid: false, server: BASE });
  assert.is(none.jsonld, o);
  assert.is(none.store, false, 'the local file is removed');
  const hidden = addChatToVideoJsonLd(o, {
    video,
    roomJid: 'a@room.video.example',
    server: { ...BASE, dontPublishRemotely: true },
  });
  assert.is(hidden.jsonld, o);
  assert.is(hidden.store, false);
  const remote = addChatToVideoJsonLd(o, {
    video: { ...video, remote: true },
    roomJid: 'a@room.video.example',
    server: BASE,
  });
  assert.is(remote.jsonld, o);
  assert.is(remote.store, undefined, 'nothing stored for remote videos');
  assert.is('peertubeLiveChat' in o, false);
});

test('JSON-LD context: the peertubeLiveChat term only on a video context, in a new array', () => {
  const videoCtx: unknown[] = [
    'https://www.w3.org/ns/activitystreams',
    { isLiveBroadcast: 'sc:isLiveBroadcast', pt: 'https://joinpeertube.org/ns#' },
  ];
  const out = addChatJsonLdContext(videoCtx);
  assert.is(out.length, 3);
  assert.equal(out[2], {
    ptlc: 'urn:peertube-plugin-livechat',
    peertubeLiveChat: { '@id': 'ptlc:peertubeLiveChat', '@type': '@json' },
  });
  assert.is(videoCtx.length, 2, "PeerTube's shared array is untouched");
  const other: unknown[] = ['https://www.w3.org/ns/activitystreams', { pt: 'https://joinpeertube.org/ns#' }];
  assert.equal(addChatJsonLdContext(other), other);
});

test.run();
