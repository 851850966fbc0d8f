// A busy server still takes a burst of new connections quickly (src/http/accept-handles.ts): Node accepts one
// connection per listening handle per turn of the event loop, so the standalone HTTP server accepts on extra handles
// of its listening socket (limits.acceptsPerLoopTurn). Here the test process is the server, its loop kept busy 10 ms
// a turn like a server in a join storm, while a child process opens 60 connections at once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startHttpServer, type HttpMount } from '../../src/http/server.js';
import { startTestServer } from '../helpers/server.js';

const CONNECTIONS = 60;
const BUSY_MS_PER_TURN = 10;

/**
 * Opens CONNECTIONS sockets to the server's WebSocket path at once, each asking for an XMPP WebSocket upgrade; prints
 * "go" just before, "done" once every one was switched to WebSocket (101), "error …" on anything else.
 */
const CLIENTS = `
const net = require('node:net');
const [port, path] = [Number(process.argv[1]), process.argv[2]];
const upgrade = 'GET ' + path + ' HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\nSec-WebSocket-Protocol: xmpp\\r\\n\\r\\n';
let switched = 0;
console.log('go');
for (let i = 0; i < ${CONNECTIONS}; i++) {
  const s = net.connect(port, '127.0.0.1', () => s.write(upgrade));
  s.once('data', (d) => {
    if (!d.toString().startsWith('HTTP/1.1 101')) console.log('error ' + d.toString().split('\\r\\n')[0]);
    else if (++switched === ${CONNECTIONS}) console.log('done');
    s.destroy();
  });
  s.on('error', (e) => console.log('error ' + e.message));
}`;

/** Turns of a server loop kept busy until a burst of CONNECTIONS WebSocket upgrades were all answered. */
async function turnsToUpgradeAll(acceptsPerLoopTurn: number): Promise<number> {
  const srv = await startTestServer({ limits: { acceptsPerLoopTurn } });
  try {
    const child = spawn(process.execPath, ['-e', CLIENTS, String(srv.port), '/xmpp-websocket'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! });
    let done = false;
    let failure: string | undefined;
    const exited = new Promise((r) => child.once('exit', r));
    await new Promise<void>((resolve) => {
      lines.on('line', (l) => {
        if (l === 'go') resolve();
        else if (l === 'done') done = true;
        else failure ??= l;
      });
    });
    // From here each turn of this loop costs BUSY_MS_PER_TURN, as in a server answering a storm's traffic.
    let turns = 0;
    await new Promise<void>((resolve, reject) => {
      const turn = () => {
        turns++;
        const until = Date.now() + BUSY_MS_PER_TURN;
        while (Date.now() < until);
        if (failure) reject(new Error(failure));
        else if (done) resolve();
        else if (turns > 2000) reject(new Error(`not all ${CONNECTIONS} upgraded after ${turns} turns`));
        else setImmediate(turn);
      };
      setImmediate(turn);
    });
    await exited;
    return turns;
  } finally {
    await srv.stop();
  }
}

test('by default a busy server upgrades a burst of 60 WebSocket connections in a few loop turns', async () => {
  const turns = await turnsToUpgradeAll(16);
  // 16 a turn take 60 in 4 turns; reading each upgrade and the child's report add a few more
  assert.ok(turns <= 20, `${turns} turns`);
});

test("with Node's own one accept per turn, the same burst takes at least a turn per connection", async () => {
  const turns = await turnsToUpgradeAll(1);
  assert.ok(turns >= CONNECTIONS, `${turns} turns`);
});

test('the standalone HTTP server reports its extra accept handles, and none when asked for one per turn', async () => {
  const mount: HttpMount = {
    config: { domain: 'localhost', http: { websocketPath: '/ws' } },
    handleUpgrade: () => false,
    handleRequest: () => false,
  };
  for (const [perTurn, extra] of [
    [16, 15],
    [3, 2],
    [1, 0],
  ]) {
    const http = await startHttpServer('127.0.0.1', 0, mount, perTurn);
    assert.is(http.extraAcceptHandles, extra, `${perTurn} per turn`);
    await http.close();
  }
});

test.run();
