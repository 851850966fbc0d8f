// `s2s.websocket` validation and the reader of livechat's serverInfos folder.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateS2s } from '../../src/s2s/config.js';
import { readServerInfos } from '../../src/s2s/server-infos.js';
import { standaloneFrame } from '../../src/s2s/ws-stream.js';
import { silentLogger } from '../../src/log.js';

test("defaults: WebSocket S2S off, on /xmpp-websocket-s2s, ping under nginx's 60 s", () => {
  const c = validateS2s(undefined, 's2s');
  assert.is(c.websocket.enabled, false);
  assert.is(c.websocket.path, '/xmpp-websocket-s2s');
  assert.equal(c.websocket.routes, {});
  assert.ok(c.websocket.pingIntervalSeconds <= 55);
});

test('routes, serverInfos folder and instance URL are read; WebSocket S2S works without TCP S2S', () => {
  const c = validateS2s(
    {
      websocket: {
        enabled: true,
        routes: { 'Peer.Example': 'wss://peer.example/plugins/livechat/router/xmpp-websocket-s2s' },
        serverInfosDir: '/x',
        instanceUrl: 'https://me.example',
      },
    },
    's2s',
  );
  assert.is(c.enabled, false);
  assert.is(c.websocket.enabled, true);
  assert.equal(c.websocket.routes, { 'peer.example': 'wss://peer.example/plugins/livechat/router/xmpp-websocket-s2s' });
  assert.is(c.websocket.serverInfosDir, '/x');
  assert.is(c.websocket.instanceUrl, 'https://me.example');
});

test('bad values name the field', () => {
  assert.throws(
    () => validateS2s({ websocket: { routes: { 'peer.example': 'http://peer.example/' } } }, 's2s'),
    /s2s\.websocket\.routes\.peer\.example/,
  );
  assert.throws(() => validateS2s({ websocket: { path: 'no-slash' } }, 's2s'), /s2s\.websocket\.path/);
  assert.throws(
    () => validateS2s({ websocket: { instanceUrl: 'peer.example' } }, 's2s'),
    /s2s\.websocket\.instanceUrl/,
  );
  assert.throws(
    () => validateS2s({ websocket: { pingIntervalSeconds: 120 } }, 's2s'),
    /s2s\.websocket\.pingIntervalSeconds/,
  );
  assert.throws(() => validateS2s({ websocket: { enable: true } }, 's2s'), /s2s\.websocket\.enable/);
});

test("serverInfos: livechat's ws-s2s and s2s files; missing, malformed and unsafe entries give nothing", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'server-infos-'));
  try {
    await mkdir(join(dir, 'room.peer.example'));
    await writeFile(
      join(dir, 'room.peer.example', 'ws-s2s'),
      JSON.stringify({ host: 'peer.example', url: 'wss://peer.example/plugins/livechat/router/webchat/ws-s2s' }),
    );
    await writeFile(join(dir, 'room.peer.example', 's2s'), JSON.stringify({ host: 'peer.example', port: '5269' }));
    await mkdir(join(dir, 'bad.example'));
    await writeFile(join(dir, 'bad.example', 'ws-s2s'), '{not json');
    await writeFile(join(dir, 'bad.example', 's2s'), JSON.stringify({ host: 'bad.example' }));
    assert.equal(await readServerInfos(dir, 'room.peer.example', silentLogger), {
      host: 'peer.example',
      s2s: { host: 'peer.example', port: 5269 },
      wsS2S: { host: 'peer.example', url: 'wss://peer.example/plugins/livechat/router/webchat/ws-s2s' },
    });
    assert.equal(await readServerInfos(dir, 'bad.example', silentLogger), undefined);
    assert.equal(await readServerInfos(dir, 'nobody.example', silentLogger), undefined);
    assert.equal(await readServerInfos(dir, '../etc', silentLogger), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('frames we send stand alone: prefixes declared, stanzas in jabber:server', () => {
  assert.is(
    standaloneFrame('<db:result from="a" to="b">k</db:result>'),
    '<db:result xmlns:db="jabber:server:dialback" from="a" to="b">k</db:result>',
  );
  assert.is(
    standaloneFrame('<stream:features><dialback xmlns="urn:xmpp:features:dialback"/></stream:features>'),
    '<stream:features xmlns:stream="http://etherx.jabber.org/streams"><dialback xmlns="urn:xmpp:features:dialback"/></stream:features>',
  );
  assert.is(standaloneFrame('<message to="x"/>'), '<message xmlns="jabber:server" to="x"/>');
  assert.is(standaloneFrame('<message xmlns="jabber:server" to="x"/>'), '<message xmlns="jabber:server" to="x"/>');
});

test.run();
