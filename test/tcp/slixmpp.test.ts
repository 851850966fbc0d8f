// A Debian-packaged Python client (slixmpp) over TCP + STARTTLS joins a room and talks with a WebSocket user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectClient, xml, type TestClient } from '../helpers/xmpp-client.js';

const PYTHON = '/usr/bin/python3'; // Debian's, where python3-slixmpp is installed (not a pyenv shim)
const script = fileURLToPath(new URL('./fixtures/slixmpp_occupant.py', import.meta.url));
let srv: TestServer;
let web: TestClient | undefined;

test.before(async () => {
  srv = await startTestServer({ tcp: { enabled: true, port: 0 } });
  await srv.server.accounts!.setPassword('gus', 'pass-gus');
});
test.after(async () => {
  await web?.stop();
  await srv.stop();
});

test('slixmpp joins a room over TCP and exchanges groupchat with a WebSocket viewer', async () => {
  assert.ok(existsSync(PYTHON), 'Debian python3 is installed');
  const room = 'lobby@room.localhost';
  const port = srv.server.tcpAddresses()!.starttls[0].port;
  const py = spawn(
    PYTHON,
    [
      script,
      'gus@localhost',
      'pass-gus',
      '127.0.0.1',
      String(port),
      room,
      'Gus',
      'hello from the web',
      'hello from slixmpp',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const events: Array<Record<string, string>> = [];
  let stderr = '';
  py.stderr.on('data', (d) => {
    stderr += d;
  });
  let lineBuf = '';
  py.stdout.on('data', (d) => {
    lineBuf += d;
    let i;
    while ((i = lineBuf.indexOf('\n')) >= 0) {
      const line = lineBuf.slice(0, i);
      lineBuf = lineBuf.slice(i + 1);
      try {
        events.push(JSON.parse(line));
      } catch {
        /* not ours */
      }
    }
  });
  const exited = new Promise<number | null>((r) => py.on('close', (code) => r(code)));
  const waitEvent = async (name: string, ms = 15000) => {
    const t0 = Date.now();
    while (!events.some((e) => e.event === name)) {
      if (Date.now() - t0 > ms || py.exitCode !== null)
        throw new Error(`no ${name} from slixmpp; events ${JSON.stringify(events)}; stderr ${stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await waitEvent('joined');
    const start = events.find((e) => e.event === 'session_start')!;
    assert.match(start.jid, /^gus@localhost\//);

    web = await connectClient({ service: srv.wsUrl, domain: 'anon.localhost' });
    await web.send(xml('presence', { to: `${room}/Viewer` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })));
    await web.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/Gus`, 5000, 'Gus in the room');
    await web.waitFor((s) => s.is('presence') && s.attrs.from === `${room}/Viewer`, 5000, 'own presence');
    await web.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, 'hello from the web')));
    const reply = await web.waitFor(
      (s) => s.is('message') && s.getChildText('body') === 'hello from slixmpp',
      10000,
      'reply',
    );
    assert.is(reply.attrs.from, `${room}/Gus`);
    await waitEvent('replied');
    assert.ok(
      events.some((e) => e.event === 'groupchat' && e.nick === 'Viewer' && e.body === 'hello from the web'),
      'slixmpp saw the viewer',
    );
  } finally {
    if (py.exitCode === null) py.kill('SIGTERM');
    await exited;
  }
});

test.run();
