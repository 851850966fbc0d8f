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

interface Ctx { xmpp: XmppServer; http: Server; url: string; dir: string; asked: string[]; clients: TestClient[] }
const t = suite<Ctx>('library API for the plugin');

t.before(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'libapi-'));
  ctx.asked = [];
  ctx.clients = [];
  ctx.xmpp = createServer({ domain: 'localhost', dataDir: ctx.dir, logLevel: 'error', http: { listen: false } }, {
    onCreateRoom: async (room, creator) => {
      ctx.asked.push(`${room} by ${creator.split('@')[1]}`);
      if (!room.startsWith('allowed')) return false;
      return { config: { name: 'Seeded name', persistent: true }, affiliations: { 'owner@localhost': 'owner' } };
    },
  });
  await ctx.xmpp.start();
  ctx.http = createHttp((_req, res) => { res.statusCode = 404; res.end(); });
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
  await c.send(xml('presence', { to: 'denied@room.localhost/me' }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
  const no = await c.waitFor((s) => s.is('presence') && s.attrs.from === 'denied@room.localhost/me', 10000);
  assert.is(no.attrs.type, 'error');
  assert.ok(no.getChild('error')?.getChild('not-allowed'));
  await c.send(xml('presence', { to: 'allowed1@room.localhost/me' }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
  const yes = await c.waitFor((s) => s.is('presence') && s.attrs.from === 'allowed1@room.localhost/me', 10000);
  assert.is(yes.attrs.type, undefined);
  const room = ctx.xmpp.muc.getRoom('allowed1')!;
  assert.is(room.config.name, 'Seeded name');
  assert.is(room.affiliations.get('owner@localhost')?.affiliation, 'owner');
  assert.equal(ctx.asked, ['denied@room.localhost by anon.localhost', 'allowed1@room.localhost by anon.localhost']);
});

t.run();
