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
import { WebSocketServer } from 'ws';
import { rawWsS2s, legacyHeader } from './helpers/raw-ws-s2s.js';
import { T } from '../s2s/helpers/scenario.js';

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
    domain,
    testMode: true,
    s2s: { enabled: true, interfaces: ['127.0.0.1'], port: 0, websocket: { enabled: true, serverInfosDir: infos } },
  });
  servers.push(s);
  return s;
}

async function describe(infos: string, of: TestServer, domain: string): Promise<void> {
  for (const h of [domain, `anon.${domain}`, `room.${domain}`]) {
    await mkdir(join(infos, h), { recursive: true });
    await writeFile(
      join(infos, h, 'ws-s2s'),
      JSON.stringify({ host: domain, url: `ws://127.0.0.1:${of.port}/xmpp-websocket-s2s` }),
    );
    // The main host must resolve: "localhost" stands for it here.
    await writeFile(
      join(infos, h, 's2s'),
      JSON.stringify({ host: 'localhost', port: String(of.server.s2s!.addresses!.starttls[0].port) }),
    );
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

test("handleS2sUpgrade serves WebSocket S2S on any path of an HTTP server we do not own, and reports the peer's instance URL", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'lib-'));
  dirs.push(dataDir);
  const announced: string[] = [];
  const lib: XmppServer = createServer(
    { domain: 'lib.example', dataDir, testMode: true, http: { listen: false }, s2s: { websocket: { enabled: true } } },
    { logger: silentLogger, onS2sPeerInstanceUrl: (u) => announced.push(u) },
  );
  await lib.start();
  const host = http.createServer((_req, res) => res.end('PeerTube'));
  host.on('upgrade', (req, socket, head) => {
    if (req.url === '/plugins/livechat/router/ws-s2s' && lib.handleS2sUpgrade(req, socket, head)) return;
    socket.destroy();
  });
  await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
  try {
    const c = await rawWsS2s(`ws://127.0.0.1:${(host.address() as AddressInfo).port}/plugins/livechat/router/ws-s2s`, {
      headers: { 'peertube-livechat-ws-s2s-instance-url': 'https://peer.example' },
    });
    c.send(legacyHeader('peer.example', 'lib.example'));
    const f = await c.waitFor(/<stream:features/);
    assert.match(f, /<open xmlns="urn:ietf:params:xml:ns:xmpp-framing-server"[^>]* from="lib.example"/);
    assert.equal(announced, ['https://peer.example'], "the peer's instance URL reaches the embedding application");
    c.destroy();
  } finally {
    await new Promise((r) => host.close(r));
    host.closeAllConnections();
    await lib.stop();
  }
});

test('as initiator: subprotocol xmpp, instance-URL header, <open/> frame, keepalive pings, undeclared db: in replies', async () => {
  // A stand-in peer written like livechat's accepting side: it answers with db: elements that do not declare db.
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (p) => (p.has('xmpp') ? 'xmpp' : false),
  });
  await new Promise((r) => wss.once('listening', r));
  const seen: { headers?: Record<string, unknown>; frames: string[]; pings: number } = { frames: [], pings: 0 };
  const got = new Promise<void>((resolve) => {
    wss.on('connection', (ws, req) => {
      seen.headers = req.headers;
      ws.on('ping', () => {
        seen.pings++;
        if (seen.pings >= 2 && seen.frames.some((f) => f.includes('over the fake'))) resolve();
      });
      ws.on('message', (d) => {
        const f = d.toString();
        seen.frames.push(f);
        if (f.startsWith('<open')) {
          ws.send(
            `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing-server' from='fake.example' to='anon.e.example' id='fake1' version='1.0'/>`,
          );
          ws.send(
            `<stream:features xmlns='jabber:server'><dialback xmlns='urn:xmpp:features:dialback'/></stream:features>`,
          );
        } else if (f.startsWith('<db:result')) {
          ws.send(`<db:result xmlns='jabber:server' from='fake.example' to='anon.e.example' type='valid'/>`);
        }
      });
    });
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/xmpp-websocket-s2s`;
  const e = await startTestServer({
    domain: 'e.example',
    s2s: {
      websocket: {
        enabled: true,
        pingIntervalSeconds: 1,
        instanceUrl: 'https://e.example',
        routes: { 'fake.example': url },
      },
    },
  });
  servers.push(e);
  try {
    const v = await connectClient({ service: e.wsUrl, domain: 'anon.e.example' });
    clients.push(v);
    await v.send(xml('message', { to: 'someone@fake.example', type: 'chat' }, xml('body', {}, 'over the fake')));
    await Promise.race([
      got,
      new Promise((_r, rej) => setTimeout(() => rej(new Error(`no message and 2 pings: ${JSON.stringify(seen)}`)), T)),
    ]);
    assert.is(seen.headers?.['sec-websocket-protocol'], 'xmpp');
    assert.is(seen.headers?.['peertube-livechat-ws-s2s-instance-url'], 'https://e.example');
    assert.match(
      seen.frames[0],
      /^<open xmlns="urn:ietf:params:xml:ns:xmpp-framing-server" from="anon.e.example" to="fake.example" version="1.0"\/>$/,
    );
    assert.match(
      seen.frames[1],
      /^<db:result xmlns:db="jabber:server:dialback" from="anon.e.example" to="fake.example">[0-9a-f]{64}<\/db:result>$/,
    );
    const m = seen.frames.find((f) => f.includes('over the fake'))!;
    assert.match(m, /^<message [^>]*xmlns="jabber:server"/);
    assert.ok(
      seen.frames.every((f) => f.trim() !== ''),
      'no whitespace keepalives',
    );
  } finally {
    for (const c of wss.clients) c.terminate();
    wss.close();
  }
});

test.run();
