// Admin verbs against a running server go through its admin socket (DATA/admin.sock, mode 0600): `destroy` tells
// the occupants and removes the room at once, `rooms` lists what the server holds, a new account logs in without a
// restart. With no server running (or only a socket left by one that died) the same verbs edit the data folder.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient } from '../helpers/xmpp-client.js';
import { runCli, waitForOutput, WS_URL } from '../helpers/cli.js';
import { until } from '../helpers/until.js';
import { HOST, MUC_USER, joinRoom, say, segmentFiles, viewer, xml, type TestClient } from '../archive-e2e/helpers.js';

let dir: string;
let data: string;
const clients: TestClient[] = [];
const children: ChildProcess[] = [];

function cli(args: string[]): ReturnType<typeof runCli> {
  const run = runCli(args, { cwd: dir });
  children.push(run.child);
  return run;
}

const admin = (...args: string[]) => cli([...args, '--data', data]).done;

async function startServer(): Promise<{ url: string; stop: () => Promise<number | null> }> {
  const { child, done } = cli(['--http-port', '0', '--c2s-port', '0', '--data', data, '--log-level', 'warn']);
  const url = await waitForOutput(child, WS_URL, 30_000);
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      return (await done).code;
    },
  };
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xmpp-admin-'));
  data = join(dir, 'data');
});
test.after(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

test('on a running server: rooms shows live occupants, destroy tells them and removes the room at once', async () => {
  const server = await startServer();
  const sock = join(data, 'admin.sock');
  assert.ok(existsSync(sock), 'the admin socket is in the data folder');
  assert.is(statSync(sock).mode & 0o777, 0o600, 'only the server user may connect');

  const guest = await viewer(server.url);
  clients.push(guest);
  await joinRoom(guest, 'demo', 'Guest');
  await say(guest, 'demo', ['before the destroy']);
  // The archive's write batch reaches the disk within its batch delay.
  await until('the message on disk', async () => (await segmentFiles(data, 'demo')).length > 0, 15_000, 50);

  const listed = await admin('rooms');
  assert.is(listed.code, 0, listed.err);
  assert.match(
    listed.out,
    /^demo@room\.localhost "Demo room".*\(1 occupants\)$/m,
    'the running server answers (occupants are in memory only)',
  );

  const destroyed = await admin('destroy', `demo@${HOST}`, 'the stream is over');
  assert.is(destroyed.code, 0, destroyed.err);
  assert.match(destroyed.out, /room demo@room\.localhost destroyed/);
  const gone = await guest.waitFor(
    (s) => s.is('presence') && s.attrs.type === 'unavailable' && s.attrs.from === `demo@${HOST}/Guest`,
    10_000,
    'the destroy presence',
  );
  assert.is(gone.getChild('x', MUC_USER)?.getChild('destroy')?.getChildText('reason'), 'the stream is over');
  assert.equal(await segmentFiles(data, 'demo'), [], 'the archive is deleted');
  assert.match((await admin('rooms')).out, /^no persistent rooms$/m);

  // The same name now makes a new, empty room: nothing of the old archive comes back.
  const history = await joinRoom(guest, 'demo', 'Guest', { maxstanzas: '20' });
  assert.is(history.length, 0, 'no history from the destroyed room');
  const missing = await admin('destroy', 'nosuch');
  assert.is(missing.code, 1);
  assert.match(missing.err, /no room nosuch@room\.localhost/);

  // Accounts: added through the running server, usable at once.
  const added = await admin('adduser', 'frank', '--password', 'pw-1');
  assert.is(added.code, 0, added.err);
  const frank = await connectClient({ service: server.url, domain: 'localhost', username: 'frank', password: 'pw-1' });
  clients.push(frank);
  assert.match(frank.jid, /^frank@localhost\//);
  assert.is((await admin('passwd', 'frank', '--password', 'pw-2')).code, 0);
  const again = await connectClient({ service: server.url, domain: 'localhost', username: 'frank', password: 'pw-2' });
  clients.push(again);
  assert.match((await admin('listusers')).out, /^frank@localhost$/m);

  await Promise.all(clients.splice(0).map((c) => c.stop()));
  assert.is(await server.stop(), 0);
  assert.not.ok(existsSync(sock), 'the socket goes with the server');
  // Offline now: the account edits the server made are in the file.
  assert.match((await admin('listusers')).out, /^frank@localhost$/m);
});

test('with no server, or only a socket left by one that died, the verbs edit the data folder', async () => {
  // A process that listens on the socket path and is killed leaves the file behind.
  const sock = join(data, 'admin.sock');
  const holder = spawn(
    process.execPath,
    ['-e', `require('node:net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(holder);
  await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
  holder.kill('SIGKILL');
  await new Promise((r) => holder.once('close', r));
  assert.ok(existsSync(sock), 'a stale socket file is left');

  const missing = await admin('destroy', 'nosuch');
  assert.is(missing.code, 1);
  assert.match(missing.out, /no persistent room nosuch@room\.localhost/, 'answered from the data folder');

  // A server started on that folder replaces the stale socket; its demo room is back (standalone default).
  const server = await startServer();
  const guest = await viewer(server.url);
  clients.push(guest);
  await joinRoom(guest, 'demo', 'Viewer');
  assert.match((await admin('rooms')).out, /^demo@room\.localhost "Demo room".*\(1 occupants\)$/m);
  await guest.send(xml('presence', { to: `demo@${HOST}/Viewer`, type: 'unavailable' }));
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  assert.is(await server.stop(), 0);

  const offline = await admin('destroy', 'demo');
  assert.is(offline.code, 0, offline.err);
  assert.match(
    offline.out,
    /destroyed \(configuration, affiliations and archive removed\)/,
    'answered from the data folder',
  );
  assert.match((await admin('rooms')).out, /^no persistent rooms$/m);
});

test.run();
