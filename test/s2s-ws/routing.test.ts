// Which transport an outgoing stream takes, and WebSocket S2S mounted on someone else's HTTP server (library use,
// as the PeerTube plugin does with registerWebSocketRoute).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';
import { createServer, type XmppServer } from '../../src/index.js';
import { silentLogger } from '../../src/log.js';
import { rawWsS2s, legacyHeader } from './helpers/raw-ws-s2s.js';
import { T } from './helpers/scenario.js';

const dirs: string[] = [];
const servers: TestServer[] = [];
const clients: TestClient[] = [];

test.after(async () => {
  for (const c of clients) await c.stop().catch(() => {});
  for (const s of servers) await s.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function both(domain: string, infos: string): Promise<TestServer> {
  const s = await startTestServer({
    domain, testMode: true,
    s2s: { enabled: true, interfaces: ['127.0.0.1'], port: 0, websocket: { enabled: true, serverInfosDir: infos } },
  });
  servers.push(s);
  return s;
}

async function describe(infos: string, of: TestServer, domain: string): Promise<void> {
  for (const h of [domain, `anon.${domain}`, `room.${domain}`]) {
    await mkdir(join(infos, h), { recursive: true });
    await writeFile(join(infos, h, 'ws-s2s'), JSON.stringify({ host: domain, url: `ws://127.0.0.1:${of.port}/xmpp-websocket-s2s` }));
    // The main host must resolve: "localhost" stands for it here.
    await writeFile(join(infos, h, 's2s'), JSON.stringify({ host: 'localhost', port: String(of.server.s2s!.addresses!.starttls[0].port) }));
  }
}

test('a remote that also has direct S2S is reached over TCP when we speak TCP S2S too', async () => {
  const infosC = await mkdtemp(join(tmpdir(), 'infos-c-'));
  const infosD = await mkdtemp(join(tmpdir(), 'infos-d-'));
  dirs.push(infosC, infosD);
  const c = await both('c.example', infosC);
  const d = await both('d.example', infosD);
  await describe(infosC, d, 'd.example');
  await describe(infosD, c, 'c.example');
  const vc = await connectClient({ service: c.wsUrl, domain: 'anon.c.example' });
  const vd = await connectClient({ service: d.wsUrl, domain: 'anon.d.example' });
  clients.push(vc, vd);
  await vd.send(xml('presence'));
  await vc.send(xml('message', { to: vd.jid, type: 'chat' }, xml('body', {}, 'direct')));
  await vd.waitFor((s) => s.getChildText('body') === 'direct', T, 'message over direct S2S');
  const out = c.server.s2s!.status().outgoing.filter((o) => o.remote === 'anon.d.example');
  assert.ok(out.length > 0 && out.every((o) => o.transport === 'tcp'), JSON.stringify(out));
  assert.ok(d.server.s2s!.status().incoming.every((i) => i.transport === 'tcp'));
});

test('handleS2sUpgrade serves WebSocket S2S on any path of an HTTP server we do not own, and reports the peer\'s instance URL', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'lib-'));
  dirs.push(dataDir);
  const announced: string[] = [];
  const lib: XmppServer = createServer({ domain: 'lib.example', dataDir, testMode: true, http: { listen: false }, s2s: { websocket: { enabled: true } } },
    { logger: silentLogger, onS2sPeerInstanceUrl: (u) => announced.push(u) });
  await lib.start();
  const host = http.createServer((_req, res) => res.end('PeerTube'));
  host.on('upgrade', (req, socket, head) => {
    if (req.url === '/plugins/livechat/router/ws-s2s' && lib.handleS2sUpgrade(req, socket, head)) return;
    socket.destroy();
  });
  await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
  try {
    const c = await rawWsS2s(`ws://127.0.0.1:${(host.address() as AddressInfo).port}/plugins/livechat/router/ws-s2s`,
      { headers: { 'peertube-livechat-ws-s2s-instance-url': 'https://peer.example' } });
    c.send(legacyHeader('peer.example', 'lib.example'));
    const f = await c.waitFor(/<stream:features/);
    assert.match(f, /<open xmlns="urn:ietf:params:xml:ns:xmpp-framing-server"[^>]* from="lib.example"/);
    assert.equal(announced, ['https://peer.example'], 'the peer\'s instance URL reaches the embedding application');
    c.destroy();
  } finally {
    await new Promise((r) => host.close(r));
    host.closeAllConnections();
    await lib.stop();
  }
});

test.run();
