// The standalone server from dist/ (as `npm start` runs it) with websocket.edge = process: the edge's entry runs
// from dist/, a client speaking the moment its handshake completes is answered on a freshly started server (the
// first handoffs race this process letting go of the socket), and SIGTERM leaves no edge process behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anonymousRaw } from '../helpers/raw-ws.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist', 'src', 'cli.js');

function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text ? text.split(' ').map(Number) : [];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startCli(dir: string): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({ websocket: { edge: 'process' }, http: { port: 0 }, tcp: { enabled: false } }),
  );
  const child = spawn(process.execPath, [cli, '--config', join(dir, 'config.json'), '--data', join(dir, 'data')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no "listening on" within 30 s:\n${out}`)), 30_000);
    const on = (d: Buffer) => {
      out += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${out}`)));
  });
  return { child, port, output: () => out };
}

test('fresh servers from dist/: the first client is answered, and SIGTERM leaves no edge process', async () => {
  assert.ok(existsSync(cli), `${cli} is missing: npm test builds it (npm run build)`);
  for (let round = 0; round < 8; round++) {
    const dir = await mkdtemp(join(tmpdir(), 'edge-cli-'));
    const { child, port, output } = await startCli(dir);
    try {
      const edges = childrenOf(child.pid!);
      assert.is(edges.length, 1, `round ${round}: one edge process under the server:\n${output()}`);
      // anonymousRaw sends <open/> as soon as the WebSocket is open, and so on through bind.
      const raw = await anonymousRaw(`ws://127.0.0.1:${port}/xmpp-websocket`);
      assert.match(raw.frames.join(''), /<jid>/, `round ${round}: bound`);
      raw.close();
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
      assert.not.ok(alive(edges[0]!), `round ${round}: edge ${edges[0]} still alive after the server exited`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }
});

test.run();
