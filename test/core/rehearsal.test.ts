// The start rehearsal (src/rehearsal.ts): in its first idle moment a fresh server has a hundred viewers join and leave
// a hidden room over its own WebSocket upgrade. It must finish, leave nothing behind (no room, session, connection or
// archive), let real clients in as before, and give way at once when the server stops.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type XmppServer } from '../../src/index.js';
import type { Logger } from '../../src/log.js';
import { REHEARSAL_VIEWERS } from '../../src/rehearsal.js';
import { connectClient, xml } from '../helpers/xmpp-client.js';
import { enterRoom } from '../helpers/muc-join.js';
import { until } from '../helpers/until.js';

interface Started {
  server: XmppServer;
  lines: string[];
  dir: string;
  wsUrl: string;
}

async function start(extra: Record<string, unknown> = {}): Promise<Started> {
  const dir = await mkdtemp(join(tmpdir(), 'rehearsal-'));
  const lines: string[] = [];
  const keep = (level: string) => (msg: string) => lines.push(`${level} ${msg}`);
  const logger: Logger = { error: keep('error'), warn: keep('warn'), info: keep('info'), debug: keep('debug') };
  const server = createServer(
    {
      domain: 'localhost',
      dataDir: join(dir, 'data'),
      http: { host: '127.0.0.1', port: 0 },
      tcp: { enabled: false },
      ...extra,
    },
    { logger },
  );
  await server.start();
  return { server, lines, dir, wsUrl: `ws://127.0.0.1:${server.httpAddress()!.port}/xmpp-websocket` };
}

/** Every file under `dir`, relative paths. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1));
}

test('a fresh server rehearses once when idle, then holds no trace of it and serves clients', async () => {
  const s = await start();
  try {
    const before = await filesUnder(join(s.dir, 'data'));
    await until('the rehearsal', () => s.lines.some((l) => l.includes('rehearsal:')), 15000, 5);
    const line = s.lines.find((l) => l.includes('rehearsal:'))!;
    assert.match(line, new RegExp(`^info rehearsal: ${REHEARSAL_VIEWERS} viewers joined and left in \\d+ ms`));
    assert.not.match(line, /not all of it/);
    assert.equal(
      s.lines.filter((l) => l.startsWith('warn') || l.startsWith('error')),
      [],
      'no warning or error during the rehearsal',
    );
    // Its viewers' connections close right after it: wait for the last of them.
    await until('the rehearsal connections to close', () => s.server.connectionCount === 0, 3000, 5);
    assert.is(s.server.router.sessionCount, 0, 'no rehearsal session left');
    assert.equal(
      [...s.server.muc.rooms.keys()].filter((r) => r.startsWith('rehearsal-')),
      [],
      'the rehearsal room is gone',
    );
    assert.equal(await filesUnder(join(s.dir, 'data')), before, 'nothing written to the data folder');

    // A real viewer afterwards: logs in, joins a room, and its message comes back.
    const c = await connectClient({ service: s.wsUrl, domain: 'anon.localhost' });
    try {
      const self = await enterRoom(c, 'after@room.localhost/viewer');
      assert.is(self.attrs.type, undefined, 'joined');
      await c.send(xml('message', { to: 'after@room.localhost', type: 'groupchat', id: 'm1' }, xml('body', {}, 'hi')));
      await c.waitFor((m) => m.is('message') && m.getChildText('body') === 'hi', 5000, 'own message echoed');
    } finally {
      await c.stop();
    }
    // Once per start: no second rehearsal however idle the server stays.
    await new Promise((r) => setTimeout(r, 3000));
    assert.is(s.lines.filter((l) => l.includes('rehearsal:')).length, 1);
  } finally {
    await s.server.stop();
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('a server stopped during its rehearsal stops at once and cleanly', async () => {
  const s = await start();
  try {
    await until('the rehearsal to start', () => s.server.connectionCount > 0, 15000, 5);
    const t0 = Date.now();
    await s.server.stop();
    assert.ok(Date.now() - t0 < 2000, `stop took ${Date.now() - t0} ms`);
    assert.ok(
      s.lines.some((l) => /^debug rehearsal: .* cut short by the server's stop/.test(l)),
      `the rehearsal says it was cut short:\n${s.lines.filter((l) => l.includes('rehearsal')).join('\n')}`,
    );
    assert.equal(
      s.lines.filter((l) => l.startsWith('warn') || l.startsWith('error')),
      [],
      'no warning or error',
    );
  } finally {
    await rm(s.dir, { recursive: true, force: true });
  }
});

test('rehearsal: false, or no anonymous login: no rehearsal', async () => {
  for (const extra of [{ rehearsal: false }, { anonymousHost: null }]) {
    const s = await start(extra);
    try {
      await new Promise((r) => setTimeout(r, 4000));
      assert.equal(
        s.lines.filter((l) => l.includes('rehearsal')),
        [],
        JSON.stringify(extra),
      );
      assert.is(s.server.connectionCount, 0);
    } finally {
      await s.server.stop();
      await rm(s.dir, { recursive: true, force: true });
    }
  }
});

test.run();
