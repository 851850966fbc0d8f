// Crash safety: a real server process (src/cli.ts) is killed with SIGKILL in the middle of a storm of messages from
// several @xmpp/client users. After a restart on the same data folder, every message whose reflection had reached
// its sender is in the archive (MAM), in order per sender, and nothing was duplicated.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, waitForOutput, WS_URL } from '../helpers/cli.js';
import { configure, joinRoom, mamAll, sleep, user, viewer, xml, type Stanza, type TestClient } from './helpers.js';

const test = suite('archive e2e: SIGKILL during a message storm');

let dir: string;
const children = new Set<ChildProcess>();
const clients: TestClient[] = [];

async function startChild(): Promise<{ child: ChildProcess; url: string }> {
  const { child } = runCli(
    ['--config', join(dir, 'config.json'), '--http-port', '0', '--c2s-port', '0', '--data', join(dir, 'data')],
    { cwd: dir },
  );
  children.add(child);
  child.on('exit', () => children.delete(child));
  return { child, url: await waitForOutput(child, WS_URL, 30000) };
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'archive-crash-'));
  // Default archive settings (fsync batch, 20 ms delay); the web chat page is off only to keep start-up quick.
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({ testMode: true, logLevel: 'warn', webchat: { enabled: false } }),
  );
});

test.after(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  for (const c of children) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

test('no message whose reflection reached its sender is lost when the server is killed', async () => {
  const { child, url } = await startChild();
  const owner = await user(url, 'owner');
  clients.push(owner);
  await joinRoom(owner, 'storm', 'Owner');
  await configure(owner, 'storm', { 'muc#roomconfig_persistentroom': '1' });
  // The room file must be on disk before the storm, or the room itself would not survive the kill.
  for (
    let i = 0;
    i < 100 &&
    !(await readdir(join(dir, 'data', 'muc')).catch(() => [] as string[])).some((n) => n.startsWith('storm'));
    i++
  )
    await sleep(20);

  const SENDERS = 4;
  const senders: TestClient[] = [];
  for (let i = 0; i < SENDERS; i++) {
    const c = await user(url, `s${i}`);
    clients.push(c);
    senders.push(c);
    await joinRoom(c, 'storm', `S${i}`);
  }
  const watcher = await viewer(url);
  clients.push(watcher);
  await joinRoom(watcher, 'storm', 'Watcher');

  const reflected: string[][] = senders.map(() => []);
  const sent: number[] = senders.map(() => 0);
  senders.forEach((c, i) => {
    c.xmpp.on('stanza', (s: Stanza) => {
      const b = s.is('message') && s.attrs.from === `storm@room.localhost/S${i}` ? s.getChildText('body') : null;
      if (b) reflected[i].push(b);
    });
  });

  let killed = false;
  let killWanted = false;
  const kill = (): void => {
    killed = true;
    child.kill('SIGKILL');
  };
  const storm = senders.map(async (c, i) => {
    for (let n = 0; !killed && n < 100000; n++) {
      try {
        await c.send(xml('message', { to: 'storm@room.localhost', type: 'groupchat' }, xml('body', {}, `S${i} #${n}`)));
      } catch {
        break; // the connection died with the server
      }
      sent[i] = n + 1;
      // The kill comes in the same tick as a write returned: that message cannot have been reflected yet, so the
      // server always dies with at least one message in flight, however fast the machine is.
      if (killWanted && !killed) kill();
      if (n % 20 === 19) await sleep(1); // let reflections in
    }
  });
  // Kill once the storm is really flowing (reflections wait for fsync, which a busy disk can make slow: this file
  // runs right after `npm ci` and the build in CI), then a moment later, with messages in flight.
  const flowing = Date.now();
  while (reflected.reduce((n, r) => n + r.length, 0) < 300 && Date.now() - flowing < 30_000) await sleep(50);
  await sleep(300);
  const exited = new Promise((r) => child.once('exit', r));
  killWanted = true;
  void Promise.all(storm).then(() => {
    if (!killed) kill();
  }); // every sender already stopped: kill anyway
  await exited;
  await Promise.all(storm);
  const totalReflected = reflected.reduce((n, r) => n + r.length, 0);
  const totalSent = sent.reduce((a, b) => a + b, 0);
  assert.ok(totalReflected > 200, `a real storm: ${totalReflected} reflected`);
  assert.ok(
    totalSent > totalReflected,
    `messages were in flight at the kill (${totalSent} sent, ${totalReflected} reflected)`,
  );
  await Promise.all(clients.splice(0).map((c) => c.stop()));

  const again = await startChild();
  const reader = await viewer(again.url);
  clients.push(reader);
  const archived = (await mamAll(reader, 'storm', 100)).map((i) => i.body!);
  assert.is(new Set(archived).size, archived.length, 'no duplicates');
  for (let i = 0; i < SENDERS; i++) {
    const mine = archived.filter((b) => b.startsWith(`S${i} #`));
    const missing = reflected[i].filter((b) => !mine.includes(b));
    assert.equal(missing, [], `sender ${i}: reflected but lost`);
    // In order, and a prefix of what was sent: nothing skipped in the middle.
    assert.equal(
      mine,
      mine.map((_, n) => `S${i} #${n}`),
    );
  }
  console.log(
    `    storm: ${totalSent} sent, ${totalReflected} reflected before SIGKILL, ${archived.length} archived after restart`,
  );
  again.child.kill('SIGTERM');
  await new Promise((r) => again.child.once('exit', r));
});

test.run();
