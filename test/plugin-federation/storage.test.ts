// Remote video and server infos in livechat's file layout: written from incoming Video objects and from a remote's
// api/federation_server_infos (over real HTTP), read back for the S2S layer; spoofed data is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addChatToVideoJsonLd,
  buildServerInfos,
  fetchMissingServerInfos,
  hasServerInfos,
  readIncomingVideo,
  readServerInfos,
  readVideoChatInfos,
  serverInfosDirOf,
  storeVideoChatInfos,
  type LocalChatServer,
} from '../../plugin/server/federation/index.js';

const UUID = '5b7f4c35-2d1e-4e55-9a8f-1c2b3d4e5f60';
const REMOTE: LocalChatServer = {
  webserverUrl: 'https://peer.test',
  pluginShortName: 'livechat',
  allowS2S: true,
  s2sPort: '5270',
  dontPublishRemotely: false,
  noAnonymous: false,
  disableWebsocket: false,
};
const remoteVideo = { uuid: UUID, url: `https://peer.test/videos/watch/${UUID}`, remote: true };

async function tmp() {
  return mkdtemp(join(tmpdir(), 'fed-'));
}
const json = async (p: string) => JSON.parse(await readFile(p, 'utf8'));
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** The Video object the remote instance publishes (built by the same code as ours: livechat's format). */
function remoteObject(server = REMOTE) {
  return addChatToVideoJsonLd(
    { type: 'Video', uuid: UUID, name: 'Remote live' },
    { video: { uuid: UUID, remote: false, name: 'Remote live' }, roomJid: `${UUID}@room.peer.test`, server },
  ).jsonld;
}

test('an incoming video with chat is stored under videoInfos/remote/<host>/<uuid>.json, its server under serverInfos', async () => {
  const dir = await tmp();
  try {
    const stored = await readIncomingVideo(dir, { video: remoteVideo, videoAPObject: remoteObject() });
    assert.ok(stored);
    const file = join(dir, 'videoInfos', 'remote', 'peer.test', `${UUID}.json`);
    const onDisk = await json(file);
    assert.equal(
      onDisk,
      {
        type: 'xmpp',
        jid: `${UUID}@room.peer.test`,
        xmppserver: buildServerInfos(REMOTE),
      },
      'current format, legacy links dropped',
    );
    assert.equal(await readVideoChatInfos(dir, remoteVideo), onDisk);
    assert.equal(
      (await readdir(serverInfosDirOf(dir))).sort(),
      ['peer.test', 'room.peer.test'],
      'only the domains we announce',
    );
    for (const d of ['peer.test', 'room.peer.test']) {
      assert.equal(await json(join(dir, 'serverInfos', d, 's2s')), { host: 'peer.test', port: '5270' });
      assert.equal(await json(join(dir, 'serverInfos', d, 'ws-s2s')), {
        host: 'peer.test',
        url: 'wss://peer.test/plugins/livechat/ws/xmpp-websocket-s2s',
      });
      assert.type((await json(join(dir, 'serverInfos', d, 'last-update'))).timestamp, 'number');
    }
    const read = await readServerInfos(serverInfosDirOf(dir), 'room.peer.test');
    assert.equal(read && { ...read, lastUpdate: typeof read.lastUpdate }, {
      host: 'peer.test',
      s2s: { host: 'peer.test', port: 5270 },
      wsS2S: { host: 'peer.test', url: 'wss://peer.test/plugins/livechat/ws/xmpp-websocket-s2s' },
      lastUpdate: 'number',
    });
    assert.is(await readServerInfos(serverInfosDirOf(dir), 'unknown.test'), undefined);

    // The remote turns S2S off and then the chat off: the s2s file and the video file go away.
    await readIncomingVideo(dir, { video: remoteVideo, videoAPObject: remoteObject({ ...REMOTE, allowS2S: false }) });
    assert.is(await exists(join(dir, 'serverInfos', 'peer.test', 's2s')), false);
    assert.equal((await readServerInfos(serverInfosDirOf(dir), 'peer.test'))?.s2s, undefined);
    await readIncomingVideo(dir, { video: remoteVideo, videoAPObject: { type: 'Video', uuid: UUID } });
    assert.is(await exists(file), false);
    assert.is(await readVideoChatInfos(dir, remoteVideo), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('spoofed infos (hosts or URLs of another instance) are not stored', async () => {
  const dir = await tmp();
  try {
    const forged = remoteObject() as Record<string, any>;
    forged.peertubeLiveChat.xmppserver.websockets2s.url = 'wss://evil.test/ws';
    forged.peertubeLiveChat.xmppserver.host = 'evil.test';
    assert.is(await readIncomingVideo(dir, { video: remoteVideo, videoAPObject: forged }), false);
    assert.is(await exists(serverInfosDirOf(dir)), false);
    // A WS URL elsewhere is dropped, the rest kept.
    const half = remoteObject() as Record<string, any>;
    half.peertubeLiveChat.xmppserver.websockets2s.url = 'wss://evil.test/ws';
    const kept = await readIncomingVideo(dir, { video: remoteVideo, videoAPObject: half });
    assert.ok(kept && kept.xmppserver.websockets2s === undefined && kept.xmppserver.directs2s?.port === '5270');
    assert.is(await exists(join(dir, 'serverInfos', 'peer.test', 'ws-s2s')), false);
    // Path tricks in the room JID or uuid never leave the folder.
    const bad = remoteObject() as Record<string, any>;
    bad.peertubeLiveChat.jid = 'x@../../etc';
    assert.is(await readIncomingVideo(dir, { video: remoteVideo, videoAPObject: bad }), false);
    await storeVideoChatInfos(dir, { ...remoteVideo, uuid: '../x' }, false).then(
      () => assert.unreachable('accepted ../x'),
      () => {},
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("livechat's first format (jid + anonymous links) is migrated on reading", async () => {
  const dir = await tmp();
  try {
    const v0 = {
      type: 'xmpp',
      jid: `${UUID}@room.peer.test`,
      links: [
        {
          type: 'xmpp-bosh-anonymous',
          url: 'https://peer.test/plugins/livechat/router/http-bind',
          jid: 'anon.peer.test',
        },
        {
          type: 'xmpp-websocket-anonymous',
          url: 'wss://peer.test/plugins/livechat/ws/xmpp-websocket',
          jid: 'anon.peer.test',
        },
      ],
    };
    const out = await readIncomingVideo(dir, {
      video: remoteVideo,
      videoAPObject: { uuid: UUID, peertubeLiveChat: v0 },
    });
    assert.equal(out, {
      type: 'xmpp',
      jid: `${UUID}@room.peer.test`,
      xmppserver: {
        host: 'peer.test',
        muc: 'room.peer.test',
        anonymous: {
          virtualhost: 'anon.peer.test',
          bosh: 'https://peer.test/plugins/livechat/router/http-bind',
          websocket: 'wss://peer.test/plugins/livechat/ws/xmpp-websocket',
        },
      },
    });
    assert.equal(
      await readServerInfos(serverInfosDirOf(dir), 'peer.test'),
      undefined,
      'no S2S announced: nothing to connect to',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file written by livechat is read (port as a string, extra fields ignored)', async () => {
  const dir = await tmp();
  try {
    const d = join(dir, 'serverInfos', 'room.old.test');
    await mkdir(d, { recursive: true });
    await writeFile(
      join(d, 'ws-s2s'),
      '{"host":"old.test","url":"wss://old.test/plugins/livechat/ws/xmpp-websocket-s2s"}',
    );
    await writeFile(join(d, 's2s'), 'not json');
    const r = await readServerInfos(join(dir, 'serverInfos'), 'room.old.test');
    assert.equal(r, {
      host: 'old.test',
      wsS2S: { host: 'old.test', url: 'wss://old.test/plugins/livechat/ws/xmpp-websocket-s2s' },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('fetchMissingServerInfos asks the remote once over HTTP, then uses stored infos until they are 24 h old', async () => {
  const dir = await tmp();
  const hits: string[] = [];
  let body: unknown;
  const http = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
  const port = (http.address() as AddressInfo).port;
  // The remote is peer.test; a fetch that resolves peer.test to loopback stands in for DNS.
  const url = `http://peer.test:${port}`;
  const viaLoopback: typeof fetch = (input, init) => fetch(String(input).replace('//peer.test:', '//127.0.0.1:'), init);
  const opts = { pluginShortName: 'livechat', fetch: viaLoopback };
  const remote: LocalChatServer = { ...REMOTE, webserverUrl: url, allowS2S: false };
  body = buildServerInfos(remote);
  try {
    assert.is(await fetchMissingServerInfos(dir, url, opts), true);
    assert.equal(hits, ['/plugins/livechat/router/api/federation_server_infos']);
    assert.is(
      (await readServerInfos(serverInfosDirOf(dir), 'room.peer.test'))?.wsS2S?.url,
      `ws://peer.test:${port}/plugins/livechat/ws/xmpp-websocket-s2s`,
    );
    assert.is(await fetchMissingServerInfos(dir, url, opts), true);
    assert.is(hits.length, 1, 'fresh infos are not fetched again');
    assert.is(await hasServerInfos(dir, url, 24 * 3600_000, Date.now() + 25 * 3600_000), false, 'stale after 24 h');
    // A remote answering with another instance's URLs stores nothing.
    const dir2 = await tmp();
    body = { ...buildServerInfos(remote), websockets2s: { url: 'wss://evil.test/x' }, host: 'evil.test' };
    assert.is(await fetchMissingServerInfos(dir2, url, opts), false);
    assert.is(hits.length, 2, 'the second folder did ask');
    assert.is(await exists(serverInfosDirOf(dir2)), false);
    await rm(dir2, { recursive: true, force: true });
  } finally {
    http.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
