// The library API the plugin relies on: onCreateRoom decides and seeds rooms (the MUC's creation policy becomes
// 'callback'), and handleWebSocket serves RFC 7395 on whatever path the host mounts it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer as createHttp, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type XmppServer } from '../../src/index.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';

interface Ctx {
  xmpp: XmppServer;
  http: Server;
  url: string;
  dir: string;
  asked: string[];
  clients: TestClient[];
  closed: Set<string>;
}
const t = suite<Ctx>('library API for the plugin');

t.before(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'libapi-'));
  ctx.asked = [];
  ctx.clients = [];
  ctx.closed = new Set();
  ctx.xmpp = createServer(
    { domain: 'localhost', dataDir: ctx.dir, logLevel: 'error', http: { listen: false } },
    {
      mayJoinRoom: (room) => !ctx.closed.has(room),
      onCreateRoom: async (room, creator) => {
        ctx.asked.push(`${room} by ${creator.split('@')[1]}`);
        if (!room.startsWith('allowed')) return false;
        return { config: { name: 'Seeded name', persistent: true }, affiliations: { 'owner@localhost': 'owner' } };
      },
    },
  );
  await ctx.xmpp.start();
  ctx.http = createHttp((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  ctx.http.on('upgrade', (req, socket, head) => {
    if (req.url?.startsWith('/some/mount/ws')) ctx.xmpp.handleWebSocket(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((r) => ctx.http.listen(0, '127.0.0.1', r));
  ctx.url = `ws://127.0.0.1:${(ctx.http.address() as AddressInfo).port}/some/mount/ws?x=1`;
});

t.after(async (ctx) => {
  for (const c of ctx.clients) await c.stop();
  await ctx.xmpp.stop();
  await new Promise<void>((r) => ctx.http.close(() => r()));
  rmSync(ctx.dir, { recursive: true, force: true });
});

t('handleWebSocket serves any mount path; onCreateRoom refuses and seeds', async (ctx) => {
  const c = await connectClient({ service: ctx.url, domain: 'anon.localhost' });
  ctx.clients.push(c);
  await c.send(
    xml('presence', { to: 'denied@room.localhost/me' }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
  );
  const no = await c.waitFor((s) => s.is('presence') && s.attrs.from === 'denied@room.localhost/me', 10000);
  assert.is(no.attrs.type, 'error');
  assert.ok(no.getChild('error')?.getChild('not-allowed'));
  await c.send(
    xml('presence', { to: 'allowed1@room.localhost/me' }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
  );
  const yes = await c.waitFor((s) => s.is('presence') && s.attrs.from === 'allowed1@room.localhost/me', 10000);
  assert.is(yes.attrs.type, undefined);
  const room = ctx.xmpp.muc.getRoom('allowed1')!;
  assert.is(room.config.name, 'Seeded name');
  assert.is(room.affiliations.get('owner@localhost')?.affiliation, 'owner');
  assert.equal(ctx.asked, ['denied@room.localhost by anon.localhost', 'allowed1@room.localhost by anon.localhost']);
});

t('mayJoinRoom vetoes new joins to an existing room; occupants already in stay', async (ctx) => {
  const a = await connectClient({ service: ctx.url, domain: 'anon.localhost' });
  const b = await connectClient({ service: ctx.url, domain: 'anon.localhost' });
  ctx.clients.push(a, b);
  await a.send(
    xml('presence', { to: 'allowed2@room.localhost/a' }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
  );
  assert.is(
    (await a.waitFor((s) => s.is('presence') && s.attrs.from === 'allowed2@room.localhost/a', 10000)).attrs.type,
    undefined,
  );
  ctx.closed.add('allowed2@room.localhost');
  await b.send(
    xml('presence', { to: 'allowed2@room.localhost/b' }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
  );
  const no = await b.waitFor((s) => s.is('presence') && s.attrs.from === 'allowed2@room.localhost/b', 10000);
  assert.ok(no.getChild('error')?.getChild('not-allowed'));
  await a.send(xml('message', { to: 'allowed2@room.localhost', type: 'groupchat' }, xml('body', {}, 'still talking')));
  await a.waitFor((s) => s.is('message') && s.getChildText('body') === 'still talking', 10000, 'own message reflected');
  ctx.closed.delete('allowed2@room.localhost');
  await b.send(
    xml('presence', { to: 'allowed2@room.localhost/b2' }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
  );
  assert.is(
    (await b.waitFor((s) => s.is('presence') && s.attrs.from === 'allowed2@room.localhost/b2', 10000)).attrs.type,
    undefined,
  );
});

t.run();
